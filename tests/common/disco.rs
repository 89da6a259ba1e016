//! What a server or one of its services says it offers (XEP-0030 §3), for tests that assert "this server lacks X"
//! from the server's own answer instead of skipping.

use moxl::client::Client;
use moxl::xep::xep_0030_disco::InfoQuery;

/// The features (`<feature var=…/>`) of `jid`'s disco#info answer, asked through `client`; a panic if it does not
/// answer (every test server answers disco#info for itself and its services).
pub(crate) async fn features_of(client: &Client, jid: &str) -> Vec<String> {
    let pending = client.xec().context().request(InfoQuery::new(jid)).expect("disco#info sent");
    let info = pending.await.unwrap_or_else(|e| panic!("disco#info of {jid}: {e}"));
    info.features
}
