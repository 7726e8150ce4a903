//! Software statement assertions: the directory's signed word on who a TPP's software is.
//! The claim set follows the Open Banking Directory's SSA (DIR §Software Statement).

use serde::{Deserialize, Serialize};

use crate::model::{Organisation, Role, Software, Status};
use crate::{Directory, DirectoryError};

/// The `iss` of every SSA this directory signs.
pub const SSA_ISSUER: &str = "Bascule Sandbox Directory";

/// The competent authority's view of the TPP (here always the FCA, as for UK TPPs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetentAuthorityClaims {
    pub authority_id: String,
    pub registration_id: String,
    pub status: String,
    pub authorisations: Vec<Authorisation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorisation {
    pub member_state: String,
    pub roles: Vec<String>,
}

/// An SSA's claims. Optional fields stay optional so SSAs from the real directory parse too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftwareStatementClaims {
    pub iss: String,
    pub iat: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    pub software_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_client_id: Option<String>,
    pub software_client_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_client_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_client_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_mode: Option<String>,
    pub software_redirect_uris: Vec<String>,
    pub software_roles: Vec<String>,
    pub software_jwks_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_jwks_revoked_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_logo_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_policy_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_tos_uri: Option<String>,
    pub org_id: String,
    pub org_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_jwks_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_jwks_revoked_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_competent_authority_claims: Option<CompetentAuthorityClaims>,
}

impl SoftwareStatementClaims {
    /// The roles this SSA grants; unknown role names are ignored (they grant nothing).
    pub fn roles(&self) -> Vec<Role> {
        self.software_roles
            .iter()
            .filter_map(|r| Role::parse(r))
            .collect()
    }
}

impl Directory {
    pub(crate) fn jwks_endpoint(&self, org: &str, software: &str) -> String {
        format!(
            "{}/directory/organisations/{org}/software/{software}/jwks",
            self.inner.public_url
        )
    }

    /// Signs a fresh SSA for active software of an active organisation.
    pub async fn issue_ssa(&self, software_id: &str) -> Result<String, DirectoryError> {
        let software = self.software(software_id).await?;
        let organisation = self.organisation(&software.organisation_id).await?;
        if software.status != Status::Active || organisation.status != Status::Active {
            return Err(DirectoryError::Invalid(
                "software or organisation is revoked".into(),
            ));
        }
        let claims = self.ssa_claims(&organisation, &software);
        Ok(self.inner.key.sign_jwt(&claims, Some("JWT"))?)
    }

    fn ssa_claims(&self, org: &Organisation, software: &Software) -> SoftwareStatementClaims {
        let now = self.inner.clock.now().unix_timestamp();
        let roles: Vec<String> = software
            .roles
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect();
        let base = format!(
            "{}/directory/organisations/{}",
            self.inner.public_url, org.id
        );
        SoftwareStatementClaims {
            iss: SSA_ISSUER.to_owned(),
            iat: now,
            jti: self.inner.ids.next_uuid().hyphenated().to_string(),
            exp: None,
            software_id: software.id.clone(),
            software_client_id: Some(software.id.clone()),
            software_client_name: software.client_name.clone(),
            software_client_description: software.description.clone(),
            software_client_uri: software.client_uri.clone(),
            software_version: Some("1.0".to_owned()),
            software_environment: Some("sandbox".to_owned()),
            software_mode: Some("Test".to_owned()),
            software_redirect_uris: software.redirect_uris.clone(),
            software_roles: roles.clone(),
            software_jwks_endpoint: self.jwks_endpoint(&org.id, &software.id),
            software_jwks_revoked_endpoint: Some(format!(
                "{}/jwks/revoked",
                self.jwks_endpoint(&org.id, &software.id)
            )),
            software_logo_uri: software.logo_uri.clone(),
            software_policy_uri: software.policy_uri.clone(),
            software_tos_uri: software.tos_uri.clone(),
            org_id: org.id.clone(),
            org_name: org.name.clone(),
            org_status: Some(org.status.as_str().to_owned()),
            org_jwks_endpoint: Some(format!("{base}/jwks")),
            org_jwks_revoked_endpoint: Some(format!("{base}/jwks/revoked")),
            organisation_competent_authority_claims: Some(CompetentAuthorityClaims {
                authority_id: "FCAGBR".to_owned(),
                registration_id: format!("SANDBOX-{}", &org.id[..org.id.len().min(8)]),
                status: "Active".to_owned(),
                authorisations: vec![Authorisation {
                    member_state: "GB".to_owned(),
                    roles,
                }],
            }),
        }
    }
}
