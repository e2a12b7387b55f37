# Shared by scripts/run and scripts/test: installs the Debian packages Haven builds against,
# when they are missing. Sourced, not run.

# GRDB links the system SQLite; Foundation's URLSession uses libcurl; compress-nio uses zlib; the
# stream's zstd coding uses libzstd (found by pkg-config).
# The TLS tests make their certificates with openssl.
HAVEN_PACKAGES=(libsqlite3-dev libcurl4-openssl-dev zlib1g-dev libzstd-dev pkg-config openssl)
# The console's browser tests (scripts/test only): a headless Chromium, its WebDriver, pip for Selenium,
# and a Korean font for the screenshots.
BROWSER_TEST_PACKAGES=(chromium chromium-driver python3-pip fonts-nanum)

install_missing() {
    local missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

require_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        [ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
    fi
    command -v swift >/dev/null 2>&1 || {
        echo "error: Swift 6.1 or later is needed (https://swift.org/install); 'swift' is not on PATH" >&2
        exit 1
    }
}
