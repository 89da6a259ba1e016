//! Channel-binding data of a TLS connection (RFC 5056), for `SCRAM-*-PLUS` (RFC 5802 §6).

use sha2::Digest;
use x509_parser::oid_registry as oid;

use crate::auth::ChannelBindingType;

/// A channel-binding type and the data it binds to, as [`SaslConfig::channel_binding`] takes them.
///
/// [`SaslConfig::channel_binding`]: crate::auth::SaslConfig::channel_binding
pub type ChannelBinding = (ChannelBindingType, Vec<u8>);

/// RFC 9266 §2: the exporter label, no context, 32 bytes.
const EXPORTER_LABEL: &[u8] = b"EXPORTER-Channel-Binding";

pub(super) fn of(conn: &rustls::ClientConnection) -> Option<ChannelBinding> {
    if conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3) {
        // RFC 9266 §3: `tls-exporter` is the channel binding of TLS 1.3 (`tls-unique` is undefined there).
        let mut data = vec![0u8; 32];
        conn.export_keying_material(&mut data, EXPORTER_LABEL, None).ok()?;
        return Some((ChannelBindingType::TlsExporter, data));
    }
    // TLS 1.2: `tls-unique` needs the Finished message, which rustls does not expose; `tls-server-end-point`
    // (RFC 5929 §4) needs only the server certificate.
    let leaf = conn.peer_certificates()?.first()?;
    Some((ChannelBindingType::TlsServerEndPoint, server_end_point(leaf)?))
}

/// RFC 5929 §4.1: the hash of the server's certificate, with the hash function of its signature algorithm, except
/// that MD5 and SHA-1 are replaced by SHA-256. `None` where that is undefined (no single hash: Ed25519, or a
/// certificate that does not parse).
///
/// ```
/// # // The data of a certificate that does not parse is undefined.
/// assert_eq!(moxl_core::transport::server_end_point(b"not a certificate"), None);
/// ```
pub fn server_end_point(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let alg = &cert.signature_algorithm.algorithm;
    let sha256 = [
        oid::OID_PKCS1_MD5WITHRSAENC,
        oid::OID_PKCS1_SHA1WITHRSA,
        oid::OID_PKCS1_SHA256WITHRSA,
        oid::OID_SIG_ECDSA_WITH_SHA256,
        oid::OID_SIG_DSA_WITH_SHA1,
    ];
    let sha384 = [oid::OID_PKCS1_SHA384WITHRSA, oid::OID_SIG_ECDSA_WITH_SHA384];
    let sha512 = [oid::OID_PKCS1_SHA512WITHRSA, oid::OID_SIG_ECDSA_WITH_SHA512];
    if sha256.contains(alg) {
        Some(sha2::Sha256::digest(der).to_vec())
    } else if sha384.contains(alg) {
        Some(sha2::Sha384::digest(der).to_vec())
    } else if sha512.contains(alg) {
        Some(sha2::Sha512::digest(der).to_vec())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(alg: &'static rcgen::SignatureAlgorithm) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let params = rcgen::CertificateParams::new(vec!["example.com".to_owned()]).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn the_hash_follows_the_signature_algorithm() {
        let p256 = cert(&rcgen::PKCS_ECDSA_P256_SHA256);
        assert_eq!(server_end_point(&p256), Some(sha2::Sha256::digest(&p256).to_vec()));
        let p384 = cert(&rcgen::PKCS_ECDSA_P384_SHA384);
        assert_eq!(server_end_point(&p384), Some(sha2::Sha384::digest(&p384).to_vec()));
        // RFC 5929 §4.1 leaves Ed25519 (no separate hash) undefined.
        assert_eq!(server_end_point(&cert(&rcgen::PKCS_ED25519)), None);
    }
}
