// Debian's libzstd-dev (scripts/packages.sh): the stream's zstd content coding (LineStreamEncoder
// on the server, BodyInflater on the client).
#include <zstd.h>
#include <zstd_errors.h>
