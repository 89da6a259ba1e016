use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action(grop = "vcard")]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) {}
}

fn main() {}
