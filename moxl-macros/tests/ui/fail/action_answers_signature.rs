use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Rename;

#[action]
impl Rename {
    fn request(&self) -> ElementBuilder {
        presence(Some("coven@chat.shakespeare.lit/oldhag"), None)
    }
    async fn answers(&self) -> bool {
        true
    }
    async fn handle(&mut self, _: &Context, _: &Element) {}
}

fn main() {}
