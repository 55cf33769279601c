;; The JSON escaping of long strings (see json-escape.ts). Compiled by scripts/json-escape-wasm.mjs
;; into json-escape-wasm.ts, which test/unit/json-escape.test.ts checks against this file.
;;
;; Written by hand in WebAssembly because JavaScript cannot look at sixteen bytes at once: the
;; recorder's character loop costs 2.5 to 3 ns a character on the machines we measure on, more
;; than JSON.stringify's whole job, while this runs through text with no escape at about 0.2 ns a
;; byte and stops only at the bytes that need one.
(module
  (memory (export "memory") 1)
  ;; Writes the UTF-8 bytes at [in, in + n) to out as the text of a JSON string, escaped as
  ;; JSON.stringify escapes them, and returns where it stopped writing. out may be written up to
  ;; 16 bytes past that end.
  (func (export "escape") (param $in i32) (param $n i32) (param $out i32) (result i32)
    (local $end i32) (local $v v128) (local $m i32) (local $c i32) (local $e i32)
    (local.set $end (i32.add (local.get $in) (local.get $n)))
    (block $done
      (loop $next
        (if (i32.le_u (i32.add (local.get $in) (i32.const 16)) (local.get $end))
          (then
            ;; Sixteen bytes at a time: all of them copied, and as many counted as come before
            ;; the first that needs an escape.
            (local.set $v (v128.load (local.get $in)))
            (v128.store (local.get $out) (local.get $v))
            (local.set $m (i8x16.bitmask (v128.or (v128.or
              (i8x16.lt_u (local.get $v) (v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32))
              (i8x16.eq (local.get $v) (v128.const i8x16 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34)))
              (i8x16.eq (local.get $v) (v128.const i8x16 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92)))))
            (if (i32.eqz (local.get $m))
              (then
                (local.set $in (i32.add (local.get $in) (i32.const 16)))
                (local.set $out (i32.add (local.get $out) (i32.const 16)))
                (br $next)))
            (local.set $m (i32.ctz (local.get $m)))
            (local.set $in (i32.add (local.get $in) (local.get $m)))
            (local.set $out (i32.add (local.get $out) (local.get $m))))
          (else
            (br_if $done (i32.ge_u (local.get $in) (local.get $end)))))
        (local.set $c (i32.load8_u (local.get $in)))
        (local.set $in (i32.add (local.get $in) (i32.const 1)))
        (if (i32.and (i32.ge_u (local.get $c) (i32.const 32)) (i32.and (i32.ne (local.get $c) (i32.const 34)) (i32.ne (local.get $c) (i32.const 92))))
          (then
            (i32.store8 (local.get $out) (local.get $c))
            (local.set $out (i32.add (local.get $out) (i32.const 1)))
            (br $next)))
        ;; The short escape of c from the table at 0, else \u00XX.
        (local.set $e (i32.load8_u (local.get $c)))
        (i32.store8 (local.get $out) (i32.const 92))
        (if (local.get $e)
          (then
            (i32.store8 offset=1 (local.get $out) (local.get $e))
            (local.set $out (i32.add (local.get $out) (i32.const 2))))
          (else
            (i32.store offset=1 (local.get $out) (i32.const 0x00303075))
            (i32.store8 offset=4 (local.get $out) (i32.load8_u offset=96 (i32.shr_u (local.get $c) (i32.const 4))))
            (i32.store8 offset=5 (local.get $out) (i32.load8_u offset=96 (i32.and (local.get $c) (i32.const 15))))
            (local.set $out (i32.add (local.get $out) (i32.const 6)))))
        (br $next)))
    (local.get $out))
  ;; By byte: its short escape, 0 where it takes \u00XX; then the hex digits, at 96.
  (data (i32.const 8) "btn\00fr")
  (data (i32.const 34) "\22")
  (data (i32.const 92) "\5c")
  (data (i32.const 96) "0123456789abcdef"))
