// `request` must return an `ElementBuilder`: the error points at the method.
use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    fn request(&self) -> String {
        String::new()
    }
    async fn handle(&mut self, _: &Context, _: &Element) {}
}

fn main() {}
