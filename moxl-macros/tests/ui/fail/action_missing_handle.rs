use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handel(&mut self, _: &Context, _: &Element) {}
}

fn main() {}
