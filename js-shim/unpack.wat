;; The decoder of the embedded wasm's text (pkg-scripts/lib/embed.js), as a tiny wasm module of
;; its own: the same loop in JS runs in V8's interpreter at cold start and took ~10 ms for 67k
;; characters; here it is compiled. The shim fills the memory, calls $unpack, reads the bytes.
;;
;; Memory: 0x0000 the digit of each symbol (u16 per code point below 0x800), 0x1000 N[0..2]
;; (i32: how many symbol sequences are 0, 1, 2 bytes long), then the text as UTF-16LE code
;; units from `at` to `end`, then the output (5 bytes per 2 blocks) from `out`.
(module
  (memory (export "m") 1)
  (func $unpack (export "u") (param $at i32) (param $end i32) (param $out i32)
    (local $r i32) (local $left i32) (local $c i32) (local $hi i32) (local $half i32)
    (loop $blocks
      (local.set $r (i32.const 0))
      (local.set $left (i32.const 3))
      (loop $chars
        (local.set $c (i32.load16_u (local.get $at)))
        (local.set $at (i32.add (local.get $at) (i32.const 2)))
        (if (i32.lt_u (local.get $c) (i32.const 128))
          (then
            ;; one byte: r += digit × N[left - 1]
            (local.set $left (i32.sub (local.get $left) (i32.const 1)))
            (local.set $r (i32.add (local.get $r)
              (i32.mul
                (i32.load16_u (i32.shl (local.get $c) (i32.const 1)))
                (i32.load offset=0x1000 (i32.shl (local.get $left) (i32.const 2)))))))
          (else
            ;; two bytes: r += 93 × N[left - 1] + digit × N[left - 2]
            (local.set $left (i32.sub (local.get $left) (i32.const 2)))
            (local.set $r (i32.add (local.get $r)
              (i32.add
                (i32.mul (i32.const 93)
                  (i32.load offset=0x1004 (i32.shl (local.get $left) (i32.const 2))))
                (i32.mul
                  (i32.load16_u (i32.shl (local.get $c) (i32.const 1)))
                  (i32.load offset=0x1000 (i32.shl (local.get $left) (i32.const 2)))))))))
        (br_if $chars (local.get $left)))
      (if (local.get $half)
        (then
          ;; two 20-bit numbers → 5 bytes
          (i32.store8 (local.get $out) (i32.shr_u (local.get $hi) (i32.const 12)))
          (i32.store8 offset=1 (local.get $out) (i32.shr_u (local.get $hi) (i32.const 4)))
          (i32.store8 offset=2 (local.get $out)
            (i32.or (i32.shl (local.get $hi) (i32.const 4)) (i32.shr_u (local.get $r) (i32.const 16))))
          (i32.store8 offset=3 (local.get $out) (i32.shr_u (local.get $r) (i32.const 8)))
          (i32.store8 offset=4 (local.get $out) (local.get $r))
          (local.set $out (i32.add (local.get $out) (i32.const 5))))
        (else (local.set $hi (local.get $r))))
      (local.set $half (i32.xor (local.get $half) (i32.const 1)))
      (br_if $blocks (i32.lt_u (local.get $at) (local.get $end))))))
