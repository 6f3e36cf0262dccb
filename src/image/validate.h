/*
 * validate.h — hold what the guest returned against what the host knows
 * before a single byte reaches the file: the result record field by
 * field, and the staged header cluster compared byte for byte with the
 * one header cluster the host itself computes from its pre-probe and the
 * request (the shared, pure, fuzzed planner of src/amend).
 *
 * Trust: the result record and the staged cluster come from the guest
 * and are hostile; they are compared, never parsed. The pre-probe bytes
 * are the file's (hostile too) but are only handled by the shared parser
 * and planner; the request is ours. What the host cannot check is the
 * guest's table scan (zero clusters, compressed clusters, snapshot
 * sizes): a lying guest can refuse a downgrade that should work, or let
 * one through that the scan should have refused (docs/sandbox.md).
 */
#ifndef INSTAR_VALIDATE_H
#define INSTAR_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/guest_abi.h"
#include "src/amend/amend_plan.h"
#include "src/qcow2/qcow2_header.h"

#ifdef __cplusplus
extern "C" {
#endif

enum validate_err {
	VALIDATE_AMENDED = 0,      /* staged cluster is good: commit it */
	VALIDATE_NOOP,             /* nothing to write */
	VALIDATE_REFUSED,          /* the guest refused: out->guest_status */
	VALIDATE_ERR_RECORD,       /* magic/version/status/action malformed */
	VALIDATE_ERR_WROTE_WITHOUT_CHANGE, /* refusal/no-op, yet bytes staged */
	VALIDATE_ERR_NOOP_LIE,     /* claims no-op, but the request changes things */
	VALIDATE_ERR_NO_WRITE,     /* claims amended, nothing staged */
	VALIDATE_ERR_NOT_EXPECTED, /* staged cluster is not the one the host
				    * expects (out->first_difference), or the
				    * host's plan does not change the header */
	VALIDATE_ERR_REFUSAL_LIE,  /* a refusal the header contradicts */
	VALIDATE_ERR_RECORD_MISMATCH, /* record disagrees with the request */
	VALIDATE_ERR_GUEST_IO,     /* the guest reports a failed virtio request */
	VALIDATE_ERR_COUNT_
};

struct validate_input {
	const uint8_t *pre;          /* pre-probe header cluster */
	const struct qcow2_header *pre_hdr; /* its parse (QCOW2_OK) */
	size_t len;                  /* cluster size */
	const struct amend_request *req;
	const struct guest_result *res;
	const uint8_t *staged;       /* pre with the guest's writes applied */
	uint8_t *expected;           /* scratch, len bytes: receives the
				      * header cluster the host expects */
};

struct validate_output {
	uint32_t guest_status;       /* enum amend_status, for messages */
	uint32_t host_status;        /* the host's own plan (enum amend_status),
				      * assuming a clean table scan */
	uint32_t version;            /* resulting version */
	bool lazy;                   /* resulting lazy_refcounts */
	size_t first_difference;     /* first byte where staged != expected
				      * (len when equal or not compared) */
	struct amend_plan ranges;    /* byte ranges to write (AMENDED) */
};

/* What the request makes of the pre-probe state (no parsing needed). */
void validate_expected(const struct qcow2_header *pre,
		       const struct amend_request *req,
		       uint32_t *version, bool *lazy);

enum validate_err validate_guest(const struct validate_input *in,
				 struct validate_output *out);

#ifdef __cplusplus
}
#endif

#endif
