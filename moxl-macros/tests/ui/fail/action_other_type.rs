// An #[action] block declares only `type Output`; another associated type is reported at its name.
use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    type Reply = String;

    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) {}
}

fn main() {}
