/// SQLite FTS5's case folding for the trigram tokenizer (sqlite3Fts5UnicodeFold(c, 0), SQLite 3.40), ported so that a scan can count exactly what the index would.
///
/// Source: `sqlite3Fts5UnicodeFold` in SQLite's ext/fts5/fts5_unicode2.c (machine-generated
/// from an old CaseFolding.txt, so it lags current Unicode).
/// It is deliberately *not* Swift's `lowercased()`: SQLite's table is older and simpler
/// (one code point in, one out; only Deseret is folded outside the BMP), and any difference
/// would make a scan disagree with what the FTS5 index holds.
/// Checked exhaustively against libsqlite3 3.40.1's trigram tokenizer (case_sensitive=0):
/// identical for every scalar value U+0001...U+10FFFF.
enum TrigramFold {
    /// The code point the trigram tokenizer indexes for `codePoint` (after READ_UTF8's mapping of U+FFFE/U+FFFF to U+FFFD, then the fold).
    ///
    /// Surrogates (which cannot occur in a Swift `Unicode.Scalar`) also map to U+FFFD, as
    /// READ_UTF8 does. U+0000 is returned unchanged; note the 3.40 trigram tokenizer stops
    /// tokenizing the whole value at a NUL, so callers must handle that themselves.
    @inline(__always)
    static func fold(_ codePoint: UInt32) -> UInt32 {
        let c = codePoint
        // ASCII: the C code's own fast path (A-Z -> a-z); by far the common case.
        if c < 0x80 {
            return c &- 0x41 < 26 ? c | 0x20 : c
        }
        // READ_UTF8 (fts5_tokenize.c) replaces surrogates and U+FFFE/U+FFFF with U+FFFD before folding.
        if c & 0xFFFF_F800 == 0xD800 || c & 0xFFFF_FFFE == 0xFFFE {
            return 0xFFFD
        }
        // Outside the BMP the C code folds only Deseret capitals (U+10400-U+10427 -> +40).
        if c > 0xFFFF {
            return c &- 0x10400 < 40 ? c &+ 40 : c
        }
        // Gaps the table never touches: Latin-1 below U+00B5, U+2CF3-U+A63F (CJK, Kana, ...),
        // U+A7AB-U+FF20 (Hangul syllables, PUA, ...), and above U+FF3A.
        if c < 181 || c > 65338 || (c > 11506 && c < 42560) || (c > 42922 && c < 65313) {
            return c
        }
        return lookup(c)
    }

    /// The table part of sqlite3Fts5UnicodeFold for 128 <= c <= 0xFFFF: find the last entry
    /// whose start is <= c (same binary search as the C), then apply its offset if c is in
    /// range and, for "every second code point" entries (flags bit 0), has the right parity.
    private static func lookup(_ c: UInt32) -> UInt32 {
        var lo = 0
        var hi = codes.count - 1
        var res = 0  // codes[0] == 65 < c, so some entry always matches (C asserts the same)
        while hi >= lo {
            let mid = (hi + lo) / 2
            if c >= UInt32(codes[mid]) {
                res = mid
                lo = mid + 1
            } else {
                hi = mid - 1
            }
        }
        let start = UInt32(codes[res])
        let flag = UInt32(flags[res])
        if c < start + UInt32(ranges[res]) && (0x01 & flag & (start ^ c)) == 0 {
            return (c &+ UInt32(offsets[Int(flag >> 1)])) & 0xFFFF
        }
        return c
    }

    // aEntry[] of fts5_unicode2.c split into three parallel arrays (iCode, flags, nRange).
    // An entry covers nRange code points from iCode; flags>>1 indexes offsets; flags&1 means
    // only every second code point (same parity as iCode) folds.

    /// aEntry[].iCode: first code point of each folding rule (sorted ascending).
    private static let codes: [UInt16] = [
        65,     181,    192,    216,    256,    306,    313,    330,
        376,    377,    383,    385,    386,    390,    391,    393,
        395,    398,    399,    400,    401,    403,    404,    406,
        407,    408,    412,    413,    415,    416,    422,    423,
        425,    428,    430,    431,    433,    435,    439,    440,
        444,    452,    453,    455,    456,    458,    459,    478,
        497,    498,    502,    503,    504,    544,    546,    570,
        571,    573,    574,    577,    579,    580,    581,    582,
        837,    880,    886,    902,    904,    908,    910,    913,
        931,    962,    975,    976,    977,    981,    982,    984,
        1008,   1009,   1012,   1013,   1015,   1017,   1018,   1021,
        1024,   1040,   1120,   1162,   1216,   1217,   1232,   1329,
        4256,   4295,   4301,   7680,   7835,   7838,   7840,   7944,
        7960,   7976,   7992,   8008,   8025,   8040,   8072,   8088,
        8104,   8120,   8122,   8124,   8126,   8136,   8140,   8152,
        8154,   8168,   8170,   8172,   8184,   8186,   8188,   8486,
        8490,   8491,   8498,   8544,   8579,   9398,   11264,  11360,
        11362,  11363,  11364,  11367,  11373,  11374,  11375,  11376,
        11378,  11381,  11390,  11392,  11499,  11506,  42560,  42624,
        42786,  42802,  42873,  42877,  42878,  42891,  42893,  42896,
        42912,  42922,  65313,
    ]

    /// aEntry[].flags: bit 0 = alternate code points only; bits 1-7 = index into `offsets`.
    private static let flags: [UInt8] = [
        14,   64,   14,   14,   1,    1,    1,    1,    116,  1,    104,  50,
        1,    44,   0,    42,   0,    32,   38,   40,   0,    42,   46,   52,
        48,   0,    52,   54,   56,   1,    60,   0,    60,   0,    60,   0,
        58,   1,    62,   0,    0,    2,    0,    2,    0,    2,    1,    1,
        2,    1,    122,  134,  1,    110,  1,    70,   0,    108,  68,   0,
        106,  28,   30,   1,    36,   1,    0,    18,   16,   26,   24,   14,
        14,   0,    4,    140,  142,  146,  144,  1,    136,  138,  130,  128,
        0,    152,  0,    110,  34,   14,   1,    1,    6,    1,    1,    22,
        66,   66,   66,   1,    132,  96,   1,    150,  150,  150,  150,  150,
        151,  150,  150,  150,  150,  150,  126,  148,  100,  124,  148,  150,
        120,  150,  118,  152,  112,  114,  148,  98,   92,   94,   12,   8,
        0,    10,   22,   0,    88,   102,  90,   1,    84,   86,   80,   82,
        0,    0,    78,   1,    1,    0,    1,    1,    1,    1,    1,    76,
        1,    0,    74,   1,    1,    72,   14,
    ]

    /// aEntry[].nRange: number of code points each rule spans.
    private static let ranges: [UInt8] = [
        26,   1,    23,   7,    48,   6,    16,   46,   1,    6,    1,    1,
        4,    1,    1,    2,    1,    1,    1,    1,    1,    1,    1,    1,
        1,    1,    1,    1,    1,    6,    1,    1,    1,    1,    1,    1,
        2,    4,    1,    1,    1,    1,    1,    1,    1,    1,    18,   18,
        1,    4,    1,    1,    40,   1,    18,   1,    1,    1,    1,    1,
        1,    1,    1,    10,   1,    4,    1,    1,    3,    1,    2,    17,
        9,    1,    1,    1,    1,    1,    1,    24,   1,    1,    1,    1,
        1,    1,    1,    3,    16,   32,   34,   54,   1,    14,   88,   38,
        38,   1,    1,    150,  1,    1,    96,   8,    6,    8,    8,    6,
        8,    8,    8,    8,    8,    2,    2,    1,    1,    4,    1,    2,
        2,    2,    2,    1,    2,    2,    1,    1,    1,    1,    1,    16,
        1,    26,   47,   1,    1,    1,    1,    6,    1,    1,    1,    1,
        1,    1,    2,    100,  4,    1,    46,   24,   14,   62,   4,    1,
        10,   1,    1,    4,    10,   1,    26,
    ]

    /// aiOff[]: added to the code point modulo 0x10000 (large values act as subtractions).
    private static let offsets: [UInt16] = [
        1,      2,      8,      15,     16,     26,     28,     32,
        37,     38,     40,     48,     63,     64,     69,     71,
        79,     80,     116,    202,    203,    205,    206,    207,
        209,    210,    211,    213,    214,    217,    218,    219,
        775,    7264,   10792,  10795,  23228,  23256,  30204,  54721,
        54753,  54754,  54756,  54787,  54793,  54809,  57153,  57274,
        57921,  58019,  58363,  61722,  65268,  65341,  65373,  65406,
        65408,  65410,  65415,  65424,  65436,  65439,  65450,  65462,
        65472,  65476,  65478,  65480,  65482,  65488,  65506,  65511,
        65514,  65521,  65527,  65528,  65529,
    ]
}
