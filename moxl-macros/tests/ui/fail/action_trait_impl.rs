use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Action for Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
}

fn main() {}
