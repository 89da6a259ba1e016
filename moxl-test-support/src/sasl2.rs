//! SASL2 (XEP-0388) with Bind2 (XEP-0386), inline stream management and FAST (XEP-0484) for Prosody 0.12, from
//! Debian's `prosody-modules`.
//!
//! The packaged snapshot of `mod_sasl2` calls connection methods that exist only in Prosody trunk
//! (`conn:ssl_info()`, `conn:ssl_peerfinished()`, `conn:ssl_exportkeyingmaterial()`) and breaks the stream on 0.12.
//! [`patched_sources`] rewrites them to 0.12's equivalents on the LuaSec socket (`conn:socket():info()`, …); the
//! copies go into the test server's own plugin directory, which Prosody searches first. With the exporter call
//! working, and with [`CB_EXPORTER_MODULE`] registering SCRAM `-PLUS` for `tls-exporter` as Prosody 13 does (0.12
//! registers it for `tls-unique` only), SASL2 offers `-PLUS` mechanisms with `tls-exporter` channel binding on
//! TLS 1.3 (RFC 9266).

use std::path::Path;

use crate::error::TestSupportError;

/// The modules, in the order they must be enabled.
pub(crate) const MODULES: [&str; 4] = ["sasl2", "sasl2_bind2", "sasl2_sm", "sasl2_fast"];

/// `mod_sasl2_fast` (XEP-0484) reads and replaces `session.sasl_handler`, which on 0.12 is mod_saslauth's (see
/// [`SASL2_PATCHES`]): it must use SASL2's own handler, as the patched `mod_sasl2` does. And it reads a stream
/// attribute that only trunk passes, and formats a fractional time that 0.12's `util.datetime` refuses (the
/// crash that makes the packaged module unusable on 0.12).
const FAST_PATCHES: [(&str, &str); 6] = [
    // util.stanza has no get_child_attr in 0.12.
    ("auth:get_child_attr(\"user-agent\", nil, \"id\")", "(auth:get_child(\"user-agent\") or { attr = {} }).attr.id"),
    // 0.12's util.datetime needs an integer under Lua 5.4; token times are fractional.
    ("expiry = dt.datetime(token_info.expires_at);", "expiry = dt.datetime(math.floor(token_info.expires_at));"),
    // 0.12's stream-features event carries no `stream` (nor keeps the header's `from`); the handler does not
    // need the username anyway.
    (
        "\t\tusername = jid.node(event.stream.from);\n\t\tif not username then return; end\n",
        "\t\tusername = event.stream and jid.node(event.stream.from);\n",
    ),
    ("session.sasl_handler.profile.cb", "(session.sasl2_handler or session.sasl_handler).profile.cb"),
    ("session.sasl_handler.userdata", "(session.sasl2_handler or session.sasl_handler).userdata"),
    ("\t\t\tsession.sasl_handler = fast_sasl_handler;", "\t\t\tsession.sasl2_next = fast_sasl_handler;"),
];

/// A global module that registers the SCRAM `-PLUS` mechanisms again with `tls-exporter` among their channel
/// bindings, as Prosody 13's `util.sasl.scram` does; the mechanism code is 0.12's own.
pub(crate) const CB_EXPORTER_MODULE: (&str, &str) = (
    "moxl_test_cb_exporter",
    "-- Written by moxl-test-support: SCRAM -PLUS with tls-exporter (RFC 9266), as in Prosody 13.\n\
     module:set_global();\n\
     local sasl = require \"util.sasl\";\n\
     require \"util.sasl.scram\".init(function (name, _, f, cb)\n\
     \tif cb then sasl.registerMechanism(name, {}, f, { \"tls-unique\", \"tls-exporter\" }); end\n\
     end);\n",
);

/// A host module that lists `tls-exporter` in XEP-0440's `<sasl-channel-binding/>` on TLS 1.3 streams before
/// authentication, as Prosody 13's `mod_saslauth` lists the bindings it supports. Without such a list moxl uses no
/// `-PLUS` (it never guesses the server's binding type).
pub(crate) const CB_TYPES_MODULE: (&str, &str) = (
    "moxl_test_cb_types",
    "-- Written by moxl-test-support: XEP-0440 channel-binding types, as Prosody 13 advertises them.\n\
     module:hook(\"stream-features\", function (event)\n\
     \tlocal origin, features = event.origin, event.features;\n\
     \tif origin.type ~= \"c2s_unauthed\" or not origin.secure or not origin.conn then return; end\n\
     \tlocal sock = origin.conn:socket();\n\
     \tif not (sock and sock.info and sock.exportkeyingmaterial) or sock:info(\"protocol\") ~= \"TLSv1.3\" then return; end\n\
     \tfeatures:tag(\"sasl-channel-binding\", { xmlns = \"urn:xmpp:sasl-cb:0\" })\n\
     \t\t:tag(\"channel-binding\", { type = \"tls-exporter\" }):up():up();\n\
     end, 1);\n",
);

/// Trunk-only calls of the packaged `mod_sasl2.lua` and their Prosody 0.12 replacements.
const SASL2_PATCHES: [(&str, &str); 6] = [
    // mod_saslauth's stream-features hook runs after this one and replaces `session.sasl_handler` with its own,
    // which has no `tls-exporter` binding: keep SASL2's handler apart and use it at <authenticate/>.
    ("\torigin.sasl_handler = sasl_handler;\n", "\torigin.sasl2_handler = sasl_handler;\n"),
    (
        "\tlocal sasl_handler = session.sasl_handler;\n\tif not sasl_handler then\n\t\tsasl_handler = usermanager_get_sasl_handler(host, session);\n\t\tsession.sasl_handler = sasl_handler;\n\tend\n\tlocal mechanism",
        // FAST hands its handler over in `sasl2_next`; a handler already used (a retry after a failure, e.g. a
        // refused FAST token) is replaced by a fresh clone that keeps the channel bindings.
        "\tlocal sasl_handler = session.sasl2_next or session.sasl2_handler or usermanager_get_sasl_handler(host, session);\n\
         \tsession.sasl2_next = nil;\n\
         \tif sasl_handler.selected then\n\
         \t\tlocal fresh = sasl_handler:clean_clone();\n\
         \t\tfresh.userdata = sasl_handler.userdata;\n\
         \t\tsasl_handler = fresh;\n\
         \tend\n\
         \tsession.sasl_handler = sasl_handler;\n\tlocal mechanism",
    ),
    ("local info = origin.conn:ssl_info();", "local info = origin.conn:socket():info();"),
    (
        "if not conn.ssl_exportkeyingmaterial then return end\n\treturn conn:ssl_exportkeyingmaterial(",
        "local sock = conn:socket();\n\tif not sock.exportkeyingmaterial then return end\n\treturn sock:exportkeyingmaterial(",
    ),
    (
        "elseif origin.conn.ssl_peerfinished and origin.conn:ssl_peerfinished() then",
        "elseif origin.conn:socket().getpeerfinished and origin.conn:socket():getpeerfinished() then",
    ),
    (
        "return self.userdata[\"tls-unique\"]:ssl_peerfinished();",
        "return self.userdata[\"tls-unique\"]:socket():getpeerfinished();",
    ),
];

fn read_module(modules_dir: &Path, name: &str) -> Result<String, TestSupportError> {
    let path = modules_dir.join(format!("mod_{name}")).join(format!("mod_{name}.lua"));
    std::fs::read_to_string(&path).map_err(|e| {
        TestSupportError::InvalidArgument(format!(
            "sasl2(true) needs Debian's prosody-modules (bash scripts/install-test-deps.sh): {}: {e}",
            path.display()
        ))
    })
}

/// The modules' sources, [`CB_EXPORTER_MODULE`] and [`CB_TYPES_MODULE`], `mod_sasl2` patched for Prosody 0.12. Fails if a trunk-only call is not where it
/// was expected (another snapshot of `prosody-modules`), rather than start a server that breaks streams.
pub(crate) fn patched_sources(modules_dir: &Path) -> Result<Vec<(&'static str, String)>, TestSupportError> {
    let mut out = Vec::with_capacity(MODULES.len());
    for name in MODULES {
        let mut source = read_module(modules_dir, name)?;
        let patches: &[(&str, &str)] = match name {
            "sasl2" => &SASL2_PATCHES,
            "sasl2_fast" => &FAST_PATCHES,
            _ => &[],
        };
        for (from, to) in patches {
            if !source.contains(from) {
                return Err(TestSupportError::InvalidArgument(format!(
                    "mod_{name}.lua does not contain {from:?}: this prosody-modules snapshot needs another patch"
                )));
            }
            source = source.replace(from, to);
        }
        out.push((name, source));
    }
    out.push((CB_EXPORTER_MODULE.0, CB_EXPORTER_MODULE.1.to_owned()));
    out.push((CB_TYPES_MODULE.0, CB_TYPES_MODULE.1.to_owned()));
    Ok(out)
}
