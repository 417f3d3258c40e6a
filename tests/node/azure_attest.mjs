// Attests a simulated SGX quote against attestd's Azure-compatible API with
// Microsoft's own JavaScript SDK, @azure/attestation, which fetches the
// signing keys from /certs and validates the token itself.
//
// Run by tests/cli/azure_compat.sh, which starts attestd and sets:
//   AZURE_ENDPOINT  http://127.0.0.1:PORT/compat/azure/APP (the SDK's endpoint)
//   SGX_QUOTE       quote file whose report data starts with SHA-256(runtime data)
//   RUNTIME_DATA    runtime data file bound by SGX_QUOTE
//   SGX_QUOTE_JSON  quote that binds RUNTIME_JSON, a JSON object, the same way
//   MRENCLAVE       the quote's MRENCLAVE in hex
// Prints `ok - ...`/`not ok - ...` per check and `N passed, N failed`.
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";

import { AttestationClient } from "@azure/attestation";

const endpoint = process.env.AZURE_ENDPOINT;
const quote = readFileSync(process.env.SGX_QUOTE);
const runtimeData = readFileSync(process.env.RUNTIME_DATA);
const quoteForJson = readFileSync(process.env.SGX_QUOTE_JSON);
const runtimeJson = readFileSync(process.env.RUNTIME_JSON);
const mrenclave = process.env.MRENCLAVE;

let passed = 0;
let failed = 0;

function check(name, condition, detail = "") {
  if (condition) {
    passed += 1;
    console.log(`ok - ${name}`);
  } else {
    failed += 1;
    console.log(`not ok - ${name}${detail ? ": " + detail : ""}`);
  }
}

function base64url(bytes) {
  return Buffer.from(bytes).toString("base64url");
}

// Every option of the SDK's own validation, with the issuer the service publishes.
function validationOptions(expectedIssuer, signerKeyIds) {
  return {
    validateToken: true,
    validateExpirationTime: true,
    validateNotBeforeTime: true,
    validateIssuer: true,
    expectedIssuer,
    timeValidationSlack: 0,
    // The SDK calls this after its signature check with the signer it found, if any.
    validateAttestationToken: (token, signer) => {
      if (signer === undefined) {
        return ["no key from /certs verified the token"];
      }
      if (!signerKeyIds.includes(signer.keyId) || signer.keyId !== token.keyId) {
        return [`token kid ${token.keyId} was verified by signer ${signer.keyId}`];
      }
      return undefined;
    },
  };
}

async function main() {
  const client = new AttestationClient(endpoint);

  const metadata = await client.getOpenIdMetadata();
  check("openid configuration names the endpoint as issuer", metadata.issuer === endpoint,
    JSON.stringify(metadata));
  check("openid configuration points at /certs", metadata.jwks_uri === `${endpoint}/certs`,
    metadata.jwks_uri);

  const signers = await client.getAttestationSigners();
  check("certs list at least one signer", signers.length >= 1, JSON.stringify(signers));
  check("each signer carries an x5c certificate",
    signers.every((signer) => signer.certificates.length >= 1 &&
      signer.certificates[0].startsWith("-----BEGIN CERTIFICATE-----")));
  const keyIds = signers.map((signer) => signer.keyId);

  const response = await client.attestSgxEnclave(quote, {
    runTimeData: runtimeData,
    validationOptions: validationOptions(metadata.issuer, keyIds),
  });
  const result = response.body;
  check("token signed by a published key", keyIds.includes(response.token.keyId),
    response.token.keyId);
  check("token algorithm is ES256", response.token.algorithm === "ES256", response.token.algorithm);
  check("issuer is the endpoint", result.issuer === endpoint, result.issuer);
  check("verifier type is sgx", result.verifierType === "sgx", result.verifierType);
  check("claims version is 1.0", result.version === "1.0", result.version);
  check("mrEnclave is the quote's", result.mrEnclave === mrenclave, result.mrEnclave);
  check("mrSigner is 64 hex digits", /^[0-9a-f]{64}$/.test(result.mrSigner), result.mrSigner);
  check("enclave is not debuggable", result.isDebuggable === false, String(result.isDebuggable));
  check("product id is a number", typeof result.productId === "number", String(result.productId));
  check("svn is a number", typeof result.svn === "number", String(result.svn));
  check("enclave held data is the runtime data",
    result.enclaveHeldData !== undefined &&
      Buffer.compare(Buffer.from(result.enclaveHeldData), runtimeData) === 0,
    result.enclaveHeldData && base64url(result.enclaveHeldData));
  check("policy hash is a SHA-256", result.policyHash.length === 32, String(result.policyHash.length));
  check("unique id is set", typeof result.uniqueId === "string" && result.uniqueId.length > 0);

  const body = response.token.getBody();
  const reportData = Buffer.from(body["x-ms-sgx-report-data"], "hex");
  const digest = createHash("sha256").update(runtimeData).digest();
  check("report data starts with SHA-256 of the runtime data",
    Buffer.compare(reportData.subarray(0, 32), digest) === 0, body["x-ms-sgx-report-data"]);
  check("token records the binding rule",
    body.attestd_binding?.rule === "azure-runtime-data-sha256" &&
      body.attestd_binding?.checked === true,
    JSON.stringify(body.attestd_binding));
  check("token says the evidence is simulated", body.attestd_simulated === true);

  // Runtime data that the quote does not bind must be rejected with Azure's error shape.
  const wrong = Buffer.concat([runtimeData, Buffer.from("!")]);
  try {
    await client.attestSgxEnclave(quote, { runTimeData: wrong });
    check("wrong runtime data is rejected", false, "the service issued a token");
  } catch (error) {
    check("wrong runtime data is rejected with 400", error.statusCode === 400,
      `${error.statusCode} ${error.message}`);
    check("rejection names the failed check", error.code === "report_data_mismatch",
      `${error.code} ${error.message}`);
    check("rejection message names the rule",
      typeof error.message === "string" && error.message.includes("azure-runtime-data-sha256"),
      error.message);
  }

  // JSON runtime data becomes the x-ms-runtime claim, the SDK's runTimeClaims.
  const jsonResponse = await client.attestSgxEnclave(quoteForJson, {
    runTimeJson: runtimeJson,
    validationOptions: validationOptions(metadata.issuer, keyIds),
  });
  check("JSON runtime data is the runTimeClaims object",
    JSON.stringify(jsonResponse.body.runTimeClaims) === JSON.stringify(JSON.parse(runtimeJson)),
    JSON.stringify(jsonResponse.body.runTimeClaims));
  check("JSON runtime data is not enclave held data",
    jsonResponse.body.enclaveHeldData === undefined);
  try {
    await client.attestSgxEnclave(quote, { runTimeJson: runtimeJson });
    check("JSON runtime data not bound by the quote is rejected", false, "token issued");
  } catch (error) {
    check("JSON runtime data not bound by the quote is rejected", error.statusCode === 400,
      `${error.statusCode} ${error.message}`);
  }
}

try {
  await main();
} catch (error) {
  failed += 1;
  console.log(`not ok - the SDK run failed: ${error.stack ?? error}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
