#!/bin/bash
# Print the cached debug kernel's build directory if it was built.
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
k=$(debug_kdir)
[ -f "$k/.mmrace-done" ] && echo "$k"
exit 0
