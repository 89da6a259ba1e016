// Every problem is reported at once.
use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action(group = "Bad", colour = "blue")]
impl Get {
    async fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    fn error_forbiden(&mut self, _: &Context, _: &StanzaError, _: &Element) {}
    fn timeout(&mut self, _: &Context) {}
}

fn main() {}
