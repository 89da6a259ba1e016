use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get<T> {
    value: T,
}

#[action]
impl<T: Send + Sync + 'static> Get<T> {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) {}
}

#[derive(Serialize, Deserialize)]
pub struct Set<T> {
    value: T,
}

#[action]
impl Set<u32> {
    fn request(&self) -> ElementBuilder {
        iq_set(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) {}
}

fn main() {}
