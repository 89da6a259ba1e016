use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    fn request(&self, to: &str) -> ElementBuilder {
        iq_get(Some(to))
    }
    async fn handle(&mut self, _: &Context) {}
    async fn error_item_not_found(&mut self, _: &Context, _: &StanzaError) {}
    async fn timeout(&mut self) {}
}

fn main() {}
