// A handler whose future is not `Send` (it holds an `Rc` across an `.await`): the error points at the method.
use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) {
        let shared = std::rc::Rc::new(1);
        std::future::ready(()).await;
        drop(shared);
    }
}

fn main() {}
