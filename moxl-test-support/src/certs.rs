//! A throw-away CA and a server certificate signed by it.
//!
//! rustls/webpki reject a self-signed leaf used as its own trust anchor, so clients trust the CA and the
//! server presents the leaf.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// PEM texts of one CA and one leaf signed by it.
pub(crate) struct GeneratedCerts {
    pub(crate) ca_pem: String,
    pub(crate) leaf_pem: String,
    pub(crate) leaf_key_pem: String,
}

/// How long the certificates are valid from yesterday on. Short on purpose: ejabberd 23.01 sets an Erlang timer to
/// each certificate's expiry, and a timer beyond 2³² ms (about 49 days) kills its certificate manager.
const VALID_DAYS: i64 = 30;

/// Sets the validity to [yesterday, yesterday + [`VALID_DAYS`]].
fn set_validity(params: &mut CertificateParams) {
    let yesterday = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_before = yesterday;
    params.not_after = yesterday + time::Duration::days(VALID_DAYS);
}

/// Makes a CA and a leaf whose subject alternative names are `names` (DNS names or IP addresses).
pub(crate) fn generate(names: &[String]) -> Result<GeneratedCerts, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    set_validity(&mut ca_params);
    ca_params.distinguished_name.push(DnType::CommonName, "moxl-test-support throw-away CA");
    ca_params.distinguished_name.push(DnType::OrganizationName, "moxl tests");
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate()?;
    let mut leaf_params = CertificateParams::new(names.to_vec())?;
    leaf_params.distinguished_name.push(DnType::CommonName, "localhost");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    set_validity(&mut leaf_params);
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer)?;

    Ok(GeneratedCerts { ca_pem: ca_cert.pem(), leaf_pem: leaf_cert.pem(), leaf_key_pem: leaf_key.serialize_pem() })
}
