use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) {}
    // a typo: the closest condition is suggested
    async fn error_item_not_fond(&mut self, _: &Context, _: &StanzaError, _: &Element) {}
    // nothing close: every condition is listed
    async fn error_teapot(&mut self, _: &Context, _: &StanzaError, _: &Element) {}
}

fn main() {}
