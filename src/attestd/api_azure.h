/*
 * Azure Attestation-compatible API of attestd, under /compat/azure/APP/:
 * the base path names the application whose active policy applies, and
 * Microsoft's SDKs take that base path as their endpoint.
 * docs/api-azure.md describes the endpoints, claims and differences.
 */
#ifndef ATTESTD_API_AZURE_H
#define ATTESTD_API_AZURE_H

#include "http.h"

/* POST /compat/azure/APP/attest/SgxEnclave?api-version=V (no key): an SGX quote. */
void attestd_azure_attest_sgx(const attestd_request *request, attestd_response *response);

/* POST /compat/azure/APP/attest/TdxVm?api-version=V (no key): a TDX quote. */
void attestd_azure_attest_tdx(const attestd_request *request, attestd_response *response);

/* GET /compat/azure/APP/certs: the service's JWKS, each key with its x5c certificate. */
void attestd_azure_certs(const attestd_request *request, attestd_response *response);

/* GET /compat/azure/APP/.well-known/openid-configuration: issuer and jwks_uri of APP. */
void attestd_azure_openid_configuration(const attestd_request *request,
                                        attestd_response *response);

#endif
