/* placeholder */
typedef int attest_placeholder_unit;
