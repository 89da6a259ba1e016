use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    fn request(self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(mut self, _: &Context, _: &Element) {}
    async fn timeout(self, _: &Context) {}
}

fn main() {}
