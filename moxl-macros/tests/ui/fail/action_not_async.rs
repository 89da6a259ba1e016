use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    fn handle(&mut self, _: &Context, _: &Element) {}
    fn error_item_not_found(&mut self, _: &Context, _: &StanzaError, _: &Element) {}
    fn error(&mut self, _: &Context, _: &StanzaError, _: &Element) {}
    fn timeout(&mut self, _: &Context) {}
}

fn main() {}
