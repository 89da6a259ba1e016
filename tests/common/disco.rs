//! What an entity says it offers (XEP-0030 disco#info), so that a test can assert "this server lacks X" from the
//! server's own answer instead of skipping silently.

use moxl::client::Client;
use moxl::xep::xep_0030_disco::InfoQuery;

/// The features `jid` (a server, a service, an account's bare JID…) lists in its disco#info answer (§3.1), as
/// `client` asks for them. Panics (it is test code) when the entity does not answer.
pub(crate) async fn features_of(client: &Client, jid: &str) -> Vec<String> {
    let request = client.xec().context().request(InfoQuery::new(jid)).expect("disco#info request sent");
    let info = request.await.unwrap_or_else(|e| panic!("disco#info of {jid}: {e}"));
    info.features
}
