use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action(group = "vCard")]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) {}
}

#[derive(Serialize, Deserialize)]
pub struct Set;

#[action(group = "vcard-temp")]
impl Set {
    fn request(&self) -> ElementBuilder {
        iq_set(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) {}
}

fn main() {}
