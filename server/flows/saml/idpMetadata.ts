/**
 * The IdP's metadata document as published at /saml/metadata and exported by
 * `npm run saml:metadata` for upload to MitID Erhverv (issue 15): the active signing certificate
 * first, the next (pending) and the previous (retired, still in the HSM) after it, SSO and SLO
 * endpoints, the attributes released.
 */
import { buildIdpMetadata } from '../../saml/index.js';
import { idpEntityId, idpUrls, type SamlDeps } from './samlDeps.js';

export async function idpMetadata(deps: SamlDeps): Promise<string> {
  const { sso, slo } = idpUrls(deps);
  const { demo, origin } = deps.core.config;
  return buildIdpMetadata({
    entityId: idpEntityId(deps),
    ssoUrls: { redirect: sso, post: sso },
    sloUrls: { redirect: slo, post: slo },
    signingCertificates: await deps.keys.published(),
    organization: { name: demo.orgName, displayName: demo.orgName, url: origin },
  });
}
