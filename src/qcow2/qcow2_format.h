/*
 * qcow2_format.h — on-disk constants of the qcow2 format: magic, header
 * field offsets, feature bits, header-extension types, limits.
 * Trusts nothing; it only names numbers from the qcow2 specification.
 * Freestanding: stdint only.
 */
#ifndef INSTAR_QCOW2_FORMAT_H
#define INSTAR_QCOW2_FORMAT_H

#include <stdint.h>

#define QCOW2_MAGIC 0x514649fbU /* "QFI\xfb" */

/* Byte offsets of the header fields (all big-endian). */
#define QCOW2_OFF_MAGIC              0u
#define QCOW2_OFF_VERSION            4u
#define QCOW2_OFF_BACKING_OFFSET     8u
#define QCOW2_OFF_BACKING_SIZE      16u
#define QCOW2_OFF_CLUSTER_BITS      20u
#define QCOW2_OFF_SIZE              24u
#define QCOW2_OFF_CRYPT_METHOD      32u
#define QCOW2_OFF_L1_SIZE           36u
#define QCOW2_OFF_L1_OFFSET         40u
#define QCOW2_OFF_REFCOUNT_OFFSET   48u
#define QCOW2_OFF_REFCOUNT_CLUSTERS 56u
#define QCOW2_OFF_NB_SNAPSHOTS      60u
#define QCOW2_OFF_SNAPSHOTS_OFFSET  64u
/* version 3 only */
#define QCOW2_OFF_INCOMPAT          72u
#define QCOW2_OFF_COMPAT            80u
#define QCOW2_OFF_AUTOCLEAR         88u
#define QCOW2_OFF_REFCOUNT_ORDER    96u
#define QCOW2_OFF_HEADER_LENGTH    100u
#define QCOW2_OFF_COMPRESSION_TYPE 104u

#define QCOW2_V2_HEADER_LEN   72u  /* a version 2 header is this long */
#define QCOW2_V3_MIN_HEADER  104u  /* smallest valid v3 header_length */
#define QCOW2_V3_FULL_HEADER 112u  /* with compression type + padding */

#define QCOW2_MIN_CLUSTER_BITS  9u  /* 512 B */
#define QCOW2_MAX_CLUSTER_BITS 21u  /* 2 MiB */
#define QCOW2_MAX_REFCOUNT_ORDER 6u /* 64-bit refcounts */
#define QCOW2_MAX_BACKING_NAME 1023u /* as QEMU limits it */

/* Incompatible feature bits. */
#define QCOW2_INCOMPAT_DIRTY         (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT       (1ULL << 1)
#define QCOW2_INCOMPAT_EXTERNAL_DATA (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION   (1ULL << 3)
#define QCOW2_INCOMPAT_EXTENDED_L2   (1ULL << 4)
#define QCOW2_INCOMPAT_KNOWN         0x1fULL

/* Compatible feature bits. */
#define QCOW2_COMPAT_LAZY_REFCOUNTS  (1ULL << 0)

/* Autoclear feature bits. */
#define QCOW2_AUTOCLEAR_BITMAPS      (1ULL << 0)
#define QCOW2_AUTOCLEAR_DATA_RAW     (1ULL << 1)
#define QCOW2_AUTOCLEAR_KNOWN        0x3ULL

/* Crypt methods. */
#define QCOW2_CRYPT_NONE 0u
#define QCOW2_CRYPT_AES  1u
#define QCOW2_CRYPT_LUKS 2u

/* Compression types. */
#define QCOW2_COMPRESSION_ZLIB 0u
#define QCOW2_COMPRESSION_ZSTD 1u

/* Header extension types. */
#define QCOW2_EXT_END            0x00000000U
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acaU
#define QCOW2_EXT_FEATURE_TABLE  0x6803f857U
#define QCOW2_EXT_CRYPTO_HEADER  0x0537be77U
#define QCOW2_EXT_BITMAPS        0x23852875U
#define QCOW2_EXT_DATA_FILE      0x44415441U

/* Feature name table entry: type(1) bit(1) name(46). */
#define QCOW2_FEATURE_ENTRY_LEN 48u
#define QCOW2_FEATURE_NAME_LEN  46u
#define QCOW2_FEAT_TYPE_INCOMPAT  0u
#define QCOW2_FEAT_TYPE_COMPAT    1u
#define QCOW2_FEAT_TYPE_AUTOCLEAR 2u

/* L1/L2 entry layout, used by the table scan. */
#define QCOW2_L1E_OFFSET_MASK 0x00fffffffffffe00ULL
#define QCOW2_L2E_OFFSET_MASK 0x00fffffffffffe00ULL
#define QCOW2_L2E_COMPRESSED  (1ULL << 62)
#define QCOW2_L2E_ZERO        (1ULL << 0)

#endif
