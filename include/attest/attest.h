/* libattest: remote attestation evidence, verification and appraisal. */
#ifndef ATTEST_ATTEST_H
#define ATTEST_ATTEST_H

#include <attest/client.h>
#include <attest/collateral.h>
#include <attest/error.h>
#include <attest/evidence.h>
#include <attest/local.h>
#include <attest/nonce.h>
#include <attest/pccs.h>
#include <attest/pck.h>
#include <attest/policy.h>
#include <attest/quote.h>
#include <attest/sim.h>
#include <attest/tcb.h>
#include <attest/token.h>
#include <attest/verify.h>

#endif
