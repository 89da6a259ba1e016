// Handlers and `request` take `self` by reference; `request` must not take `&mut self`.
use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    fn request(&mut self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(ctx: &Context, stanza: &Element) {}
    async fn timeout(self: Box<Self>, _: &Context) {}
}

fn main() {}
