#!/bin/bash
# The tree DKMS needs, and nothing else: "dkms add ." on a clone would copy
# results/ (tens of MB of console logs) into /usr/src with the sources.
# usage: dkms-src.sh DEST   (make dkms-add uses /usr/src/mmrace-VERSION)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

dest=${1:?usage: dkms-src.sh DEST}
rm -rf "$dest"
mkdir -p "$dest/tests"
cp -r "$MMRACE_TOP"/{Kbuild,Makefile,VERSION,dkms.conf,module} "$dest/"
cp -r "$MMRACE_TOP/tests/kunit" "$dest/tests/"
find "$dest" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \) -delete
