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

/// The civil date (year, month, day) of a day counted from 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (i32::try_from(year).unwrap_or(i32::MAX), u8::try_from(month).unwrap_or(1), u8::try_from(day).unwrap_or(1))
}

/// Sets the validity to [yesterday, yesterday + [`VALID_DAYS`]].
fn set_validity(params: &mut CertificateParams) {
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs() / 86_400).unwrap_or(0))
        .unwrap_or(0);
    let (y, m, d) = civil_from_days(today - 1);
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = civil_from_days(today - 1 + VALID_DAYS);
    params.not_after = rcgen::date_time_ymd(y, m, d);
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

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_794), (2026, 12, 7));
    }
}
