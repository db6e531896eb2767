;; The decoder of the embedded wasm's text (pkg-scripts/lib/embed.js), as a tiny wasm module of
;; its own: the same loop in JS runs in V8's interpreter at cold start and took ~10 ms for 67k
;; characters; here it is compiled. The shim fills the memory, calls $unpack, reads the bytes.
;;
;; Memory: 0x0000 the two-byte symbols' [first, last] code point ranges (u16 pairs, the data
;; segment: pkg-scripts/lib/embed.js TWO_RANGES, checked by build.js and tests/embed.test.js),
;; 0x1010 N[0..7] (i64: how many symbol sequences are k bytes long; 0x1000..0x100f stay zero,
;; the N[-2] and N[-1] of the recurrence), 0x1100 the digit of each one- and two-byte symbol
;; (u16 per code point below 0x800, built here first), then the text as UTF-16LE code units
;; from `at` (0x2100) to `end`, then the output (47 bytes per 8 blocks) from `out`. A
;; three-byte symbol's digit is its distance from U+4E00.
(module
  (memory (export "m") 1)
  (data (i32.const 0) "\ae\00\ff\02\a3\03\82\04\8a\04\2f\05\31\05\56\05\59\05\8a\05\1d\06\4a\06\71\06\d5\06\4d\07\a5\07\c0\07\ea\07")
  (func $unpack (export "u") (param $at i32) (param $end i32) (param $out i32)
    (local $r i64) (local $acc i64) (local $left i32) (local $c i32) (local $n i32) (local $bits i32) (local $p i32)
    ;; the digit table: ASCII less '"' and '\\', then the two-byte ranges in order
    (local.set $c (i32.const 32))
    (loop $one
      (if (i32.and (i32.ne (local.get $c) (i32.const 34)) (i32.ne (local.get $c) (i32.const 92)))
        (then
          (i32.store16 offset=0x1100 (i32.shl (local.get $c) (i32.const 1)) (local.get $n))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br_if $one (i32.lt_u (local.get $c) (i32.const 127))))
    (local.set $n (i32.const 0))
    (loop $range
      (local.set $c (i32.load16_u (local.get $p)))
      (loop $two
        (i32.store16 offset=0x1100 (i32.shl (local.get $c) (i32.const 1)) (local.get $n))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $two (i32.le_u (local.get $c) (i32.load16_u offset=2 (local.get $p)))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $range (i32.lt_u (local.get $p) (i32.const 36))))
    ;; N[k] = 93 N[k-1] + 1351 N[k-2] + 16384 N[k-3], N[0] = 1 (the symbol counts: embed.js)
    (i64.store (i32.const 0x1010) (i64.const 1))
    (local.set $n (i32.const 0x1010))
    (loop $table
      (local.set $n (i32.add (local.get $n) (i32.const 8)))
      (i64.store (local.get $n)
        (i64.add
          (i64.add
            (i64.mul (i64.const 93) (i64.load (i32.sub (local.get $n) (i32.const 8))))
            (i64.mul (i64.const 1351) (i64.load (i32.sub (local.get $n) (i32.const 16)))))
          (i64.shl (i64.load (i32.sub (local.get $n) (i32.const 24))) (i64.const 14))))
      (br_if $table (i32.lt_u (local.get $n) (i32.const 0x1048))))
    (loop $blocks
      (local.set $r (i64.const 0))
      (local.set $left (i32.const 7))
      (loop $chars
        (local.set $c (i32.load16_u (local.get $at)))
        (local.set $at (i32.add (local.get $at) (i32.const 2)))
        ;; a longer symbol ranks after every sequence that starts with a shorter one
        (local.set $n (i32.const 1))
        (if (i32.ge_u (local.get $c) (i32.const 0x80))
          (then
            (local.set $n (i32.const 2))
            (local.set $r (i64.add (local.get $r)
              (i64.mul (i64.const 93) (i64.load offset=0x1008 (i32.shl (local.get $left) (i32.const 3))))))
            (if (i32.ge_u (local.get $c) (i32.const 0x800))
              (then
                (local.set $n (i32.const 3))
                (local.set $r (i64.add (local.get $r)
                  (i64.mul (i64.const 1351)
                    (i64.load offset=0x1000 (i32.shl (local.get $left) (i32.const 3))))))))))
        (local.set $left (i32.sub (local.get $left) (local.get $n)))
        ;; r += digit × N[left]
        (local.set $r (i64.add (local.get $r)
          (i64.mul
            (i64.extend_i32_u
              (if (result i32) (i32.eq (local.get $n) (i32.const 3))
                (then (i32.sub (local.get $c) (i32.const 0x4e00)))
                (else (i32.load16_u offset=0x1100 (i32.shl (local.get $c) (i32.const 1))))))
            (i64.load offset=0x1010 (i32.shl (local.get $left) (i32.const 3))))))
        (br_if $chars (local.get $left)))
      ;; 47 more bits; whole bytes out, big-endian
      (local.set $acc (i64.or (i64.shl (local.get $acc) (i64.const 47)) (local.get $r)))
      (local.set $bits (i32.add (local.get $bits) (i32.const 47)))
      (loop $bytes
        (local.set $bits (i32.sub (local.get $bits) (i32.const 8)))
        (i64.store8 (local.get $out) (i64.shr_u (local.get $acc) (i64.extend_i32_u (local.get $bits))))
        (local.set $out (i32.add (local.get $out) (i32.const 1)))
        (br_if $bytes (i32.ge_u (local.get $bits) (i32.const 8))))
      (br_if $blocks (i32.lt_u (local.get $at) (local.get $end))))))
