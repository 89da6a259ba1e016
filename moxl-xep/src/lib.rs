//! moxl-xep: prebuilt XEP support for moxl, one module per XEP (`xep_NNNN_short_name`, or `rfcNNNN_short_name`
//! for the RFC 6121 parts).
//!
//! Each module declares its namespaces and disco features, its stanza builders, typed views, Actions and
//! Payloads. Adding one needs no edit outside its module and this list.

// docs.rs (`--cfg docsrs`): items behind a cargo feature say which one.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use moxl_core;

#[cfg(feature = "jingle-sdp")]
#[cfg_attr(docsrs, doc(cfg(feature = "jingle-sdp")))]
pub mod jingle_sdp;

pub mod rfc6121_message;
pub mod rfc6121_presence;
pub mod rfc6121_roster;
pub mod xep_0004_data_forms;
pub mod xep_0012_last;
pub mod xep_0030_disco;
pub mod xep_0045_muc;
pub mod xep_0047_ibb;
pub mod xep_0048_bookmarks;
pub mod xep_0049_private;
pub mod xep_0050_adhoc;
pub mod xep_0054_vcard_temp;
pub mod xep_0059_rsm;
pub mod xep_0060_pubsub;
pub mod xep_0065_socks5;
pub mod xep_0066_oob;
pub mod xep_0070_http_auth;
pub mod xep_0071_xhtml_im;
pub mod xep_0077_register;
pub mod xep_0080_geoloc;
pub mod xep_0084_avatar;
pub mod xep_0085_chat_states;
pub mod xep_0092_version;
pub mod xep_0100_gateway;
pub mod xep_0107_mood;
pub mod xep_0108_activity;
pub mod xep_0115_caps;
pub mod xep_0118_tune;
pub mod xep_0128_extended_disco;
pub mod xep_0153_vcard_avatar;
pub mod xep_0157_contact_addresses;
pub mod xep_0163_pep;
pub mod xep_0166_jingle;
pub mod xep_0167_rtp;
pub mod xep_0172_nick;
pub mod xep_0176_ice_udp;
pub mod xep_0184_receipts;
pub mod xep_0191_blocking;
pub mod xep_0199_ping;
pub mod xep_0215_external_services;
pub mod xep_0223_private_pep;
pub mod xep_0224_attention;
pub mod xep_0231_bob;
pub mod xep_0234_file_transfer;
pub mod xep_0245_me;
pub mod xep_0249_direct_invitations;
pub mod xep_0256_last_activity_presence;
pub mod xep_0260_jingle_s5b;
pub mod xep_0261_jingle_ibb;
pub mod xep_0264_thumbnails;
pub mod xep_0277_microblog;
pub mod xep_0280_carbons;
pub mod xep_0292_vcard4;
pub mod xep_0293_rtcp_fb;
pub mod xep_0294_rtp_hdrext;
pub mod xep_0297_forwarding;
pub mod xep_0300_hashes;
pub mod xep_0308_correction;
pub mod xep_0313_mam;
pub mod xep_0317_hats;
pub mod xep_0320_dtls;
pub mod xep_0330_pubsub_subscription;
pub mod xep_0333_markers;
pub mod xep_0334_hints;
pub mod xep_0338_grouping;
pub mod xep_0339_ssma;
pub mod xep_0352_csi;
pub mod xep_0353_jmi;
pub mod xep_0357_push;
pub mod xep_0359_stable_ids;
pub mod xep_0363_upload;
pub mod xep_0367_attaching;
pub mod xep_0372_references;
pub mod xep_0380_eme;
pub mod xep_0384_omemo;
pub mod xep_0385_sims;
pub mod xep_0390_caps2;
pub mod xep_0392_colors;
pub mod xep_0393_styling;
pub mod xep_0402_bookmarks2;
pub mod xep_0410_muc_self_ping;
pub mod xep_0421_occupant_id;
pub mod xep_0424_retraction;
pub mod xep_0425_moderation;
pub mod xep_0428_fallback;
pub mod xep_0433_channel_search;
pub mod xep_0444_reactions;
pub mod xep_0446_file_metadata;
pub mod xep_0447_sfs;
pub mod xep_0461_replies;
pub mod xep_0463_muc_affiliations_versioning;
pub mod xep_0472_social_profile;
pub mod xep_0490_mds;
pub mod xep_0503_spaces;

#[cfg(test)]
mod test_util {
    /// Runs a future that never waits on I/O (the dispatcher, sans I/O) to completion.
    pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }

    /// The stanza `template` answering the last request the controller sent: `id='ID'` in it becomes that
    /// request's id.
    pub(crate) fn answer_last(xec: &moxl_core::xec::Xec, template: &str) -> moxl_core::xml::Element {
        let out = xec.take_outgoing();
        let id = out.last().and_then(|s| s.attr("id")).expect("a request was sent").into_owned();
        moxl_core::xml::Element::parse(&template.replace("id='ID'", &format!("id='{id}'"))).expect("a valid template")
    }
}
