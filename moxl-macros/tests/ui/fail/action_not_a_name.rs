use moxl::prelude::*;

mod inner {
    use moxl::prelude::*;

    #[derive(Serialize, Deserialize)]
    pub struct Get;
}

#[action]
impl inner::Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) {}
}

fn main() {}
