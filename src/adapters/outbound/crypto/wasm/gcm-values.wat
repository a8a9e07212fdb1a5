;; AES-GCM's non-AES half for many small values (docs/encryption.md "Cost"): counter blocks, GHASH
;; and the keystream XOR. AES itself stays in OpenSSL (one AES-ECB call per batch of counter blocks).
;; Assembled by `npm run build:wasm` into gcm-values-wasm.ts; a unit test checks the two agree.
;;
;; Memory: [0, 65536) the GHASH table of one hash key H, written by JavaScript: 16 byte positions x
;; 256 byte values x 16 bytes, entry [i][b] = (byte b at position i, zeros elsewhere)·H in GCM's bit
;; order, stored as the 16 bytes of the field element. [65536, 65552) a zero-padded last block.
;; From WORK = 65600 on: the caller's values and keystream.
;; Field elements are handled as two little-endian i64 loads of their 16 bytes: multiplying by H is
;; linear, so X·H = XOR over the byte positions i of table[i][byte i of X], whatever the load order.
(module
  (memory (export "memory") 2)
  (global $ylo (mut i64) (i64.const 0))
  (global $yhi (mut i64) (i64.const 0))

  (func $bswap32 (param $x i32) (result i32)
    (i32.or
      (i32.or
        (i32.shl (local.get $x) (i32.const 24))
        (i32.shl (i32.and (local.get $x) (i32.const 0xff00)) (i32.const 8)))
      (i32.or
        (i32.and (i32.shr_u (local.get $x) (i32.const 8)) (i32.const 0xff00))
        (i32.shr_u (local.get $x) (i32.const 24)))))

  ;; y = (zlo, zhi)·H: byte i of z picks entry [i][byte] (16 bytes at i*4096 + byte*16); unrolled.
  (func $mul (param $zlo i64) (param $zhi i64)
    (local $rlo i64) (local $rhi i64) (local $e i32)
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (local.get $zlo)) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.load offset=0 (local.get $e)))
    (local.set $rhi (i64.load offset=8 (local.get $e)))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zlo) (i64.const 8))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=4096 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=4104 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zlo) (i64.const 16))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=8192 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=8200 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zlo) (i64.const 24))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=12288 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=12296 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zlo) (i64.const 32))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=16384 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=16392 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zlo) (i64.const 40))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=20480 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=20488 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zlo) (i64.const 48))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=24576 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=24584 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zlo) (i64.const 56))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=28672 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=28680 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (local.get $zhi)) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=32768 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=32776 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zhi) (i64.const 8))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=36864 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=36872 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zhi) (i64.const 16))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=40960 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=40968 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zhi) (i64.const 24))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=45056 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=45064 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zhi) (i64.const 32))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=49152 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=49160 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zhi) (i64.const 40))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=53248 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=53256 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zhi) (i64.const 48))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=57344 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=57352 (local.get $e))))
    (local.set $e (i32.shl (i32.and (i32.wrap_i64 (i64.shr_u (local.get $zhi) (i64.const 56))) (i32.const 255)) (i32.const 4)))
    (local.set $rlo (i64.xor (local.get $rlo) (i64.load offset=61440 (local.get $e))))
    (local.set $rhi (i64.xor (local.get $rhi) (i64.load offset=61448 (local.get $e))))
    (global.set $ylo (local.get $rlo))
    (global.set $yhi (local.get $rhi)))

  ;; GHASH_H(C || pad || 0^64 || [len(C) in bits]_64) of `bytes` bytes at `at` into $ylo/$yhi.
  (func $ghash (param $at i32) (param $bytes i32)
    (local $end i32) (local $bits i64)
    (global.set $ylo (i64.const 0))
    (global.set $yhi (i64.const 0))
    (local.set $end (i32.add (local.get $at) (local.get $bytes)))
    (block $whole
      (loop $blocks
        (br_if $whole (i32.gt_u (i32.add (local.get $at) (i32.const 16)) (local.get $end)))
        (call $mul
          (i64.xor (global.get $ylo) (i64.load (local.get $at)))
          (i64.xor (global.get $yhi) (i64.load offset=8 (local.get $at))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $blocks)))
    (if (i32.lt_u (local.get $at) (local.get $end))
      (then
        (i64.store (i32.const 65536) (i64.const 0))
        (i64.store (i32.const 65544) (i64.const 0))
        (memory.copy (i32.const 65536) (local.get $at) (i32.sub (local.get $end) (local.get $at)))
        (call $mul
          (i64.xor (global.get $ylo) (i64.load (i32.const 65536)))
          (i64.xor (global.get $yhi) (i64.load (i32.const 65544))))))
    ;; The length block: 0^64 then the bit length big-endian, loaded little-endian.
    (local.set $bits (i64.shl (i64.extend_i32_u (local.get $bytes)) (i64.const 3)))
    (call $mul
      (global.get $ylo)
      (i64.xor (global.get $yhi)
        (i64.or
          (i64.extend_i32_u (call $bswap32 (i32.wrap_i64 (i64.shr_u (local.get $bits) (i64.const 32)))))
          (i64.shl (i64.extend_i32_u (call $bswap32 (i32.wrap_i64 (local.get $bits)))) (i64.const 32))))))

  ;; dst ^= ks for `bytes` bytes.
  (func $xor (param $dst i32) (param $ks i32) (param $bytes i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dst) (local.get $bytes)))
    (block $words
      (loop $eight
        (br_if $words (i32.gt_u (i32.add (local.get $dst) (i32.const 8)) (local.get $end)))
        (i64.store (local.get $dst) (i64.xor (i64.load (local.get $dst)) (i64.load (local.get $ks))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
        (local.set $ks (i32.add (local.get $ks) (i32.const 8)))
        (br $eight)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store8 (local.get $dst) (i32.xor (i32.load8_u (local.get $dst)) (i32.load8_u (local.get $ks))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $ks (i32.add (local.get $ks) (i32.const 1)))
        (br $one))))

  ;; Writes the counter blocks of a value of `bytes` bytes at `at` (J0 = nonce || 1, then 2, 3, ...);
  ;; n0..n2 are the nonce's 12 bytes as little-endian i32 loads. Returns the end.
  (func (export "counters") (param $n0 i32) (param $n1 i32) (param $n2 i32) (param $bytes i32) (param $at i32) (result i32)
    (local $counter i32) (local $last i32)
    (local.set $last (i32.add (i32.shr_u (i32.add (local.get $bytes) (i32.const 15)) (i32.const 4)) (i32.const 1)))
    (local.set $counter (i32.const 1))
    (loop $blocks
      (i32.store (local.get $at) (local.get $n0))
      (i32.store offset=4 (local.get $at) (local.get $n1))
      (i32.store offset=8 (local.get $at) (local.get $n2))
      (i32.store offset=12 (local.get $at) (call $bswap32 (local.get $counter)))
      (local.set $at (i32.add (local.get $at) (i32.const 16)))
      (local.set $counter (i32.add (local.get $counter) (i32.const 1)))
      (br_if $blocks (i32.le_u (local.get $counter) (local.get $last))))
    (local.get $at))

  ;; Opens the value of `bytes` ciphertext bytes at `at` in place when the tag at `tag` matches;
  ;; `ks` is its keystream (E(J0) first). Returns 1, or 0 (nothing written) when not authentic.
  (func $open (export "open") (param $at i32) (param $bytes i32) (param $ks i32) (param $tag i32) (result i32)
    (call $ghash (local.get $at) (local.get $bytes))
    (if (i64.ne
          (i64.or
            (i64.xor (i64.xor (global.get $ylo) (i64.load (local.get $ks))) (i64.load (local.get $tag)))
            (i64.xor (i64.xor (global.get $yhi) (i64.load offset=8 (local.get $ks))) (i64.load offset=8 (local.get $tag))))
          (i64.const 0))
      (then (return (i32.const 0))))
    (call $xor (local.get $at) (i32.add (local.get $ks) (i32.const 16)) (local.get $bytes))
    (i32.const 1))

  ;; Seals `bytes` plaintext bytes at `at` in place and writes the 16-byte tag right after them.
  (func (export "seal") (param $at i32) (param $bytes i32) (param $ks i32)
    (local $tag i32)
    (call $xor (local.get $at) (i32.add (local.get $ks) (i32.const 16)) (local.get $bytes))
    (call $ghash (local.get $at) (local.get $bytes))
    (local.set $tag (i32.add (local.get $at) (local.get $bytes)))
    (i64.store (local.get $tag) (i64.xor (global.get $ylo) (i64.load (local.get $ks))))
    (i64.store offset=8 (local.get $tag) (i64.xor (global.get $yhi) (i64.load offset=8 (local.get $ks)))))

  ;; Stored entries (docs/storage.md) whose values are sealed, opened in place for a reader. `info`
  ;; holds 16 bytes per entry, offsets from `data`: entry start, the value's length field, the
  ;; stored value length (-1 = null), entry end. The layout of a sealed value: [L][L bytes wrapped
  ;; data key][12-byte nonce][ciphertext][16-byte tag].

  ;; Writes the counter blocks of every sealed value from `ks` on; returns the end.
  (func (export "entry_counters") (param $info i32) (param $count i32) (param $data i32) (param $ks i32) (result i32)
    (local $end i32) (local $sealed i32) (local $nonce i32) (local $wrapped i32) (local $counter i32) (local $last i32)
    (local.set $end (i32.add (local.get $info) (i32.shl (local.get $count) (i32.const 4))))
    (block $done
      (loop $entries
        (br_if $done (i32.ge_u (local.get $info) (local.get $end)))
        (local.set $sealed (i32.load offset=8 (local.get $info)))
        (if (i32.ge_s (local.get $sealed) (i32.const 0))
          (then
            ;; nonce = value + 1 + L; ciphertext bytes = sealed - (1 + L + 12 + 16)
            (local.set $nonce (i32.add (local.get $data) (i32.add (i32.load offset=4 (local.get $info)) (i32.const 4))))
            (local.set $wrapped (i32.load8_u (local.get $nonce)))
            (local.set $nonce (i32.add (local.get $nonce) (i32.add (local.get $wrapped) (i32.const 1))))
            (local.set $last (i32.add (i32.shr_u (i32.add
              (i32.sub (local.get $sealed) (i32.add (local.get $wrapped) (i32.const 29)))
              (i32.const 15)) (i32.const 4)) (i32.const 1)))
            (local.set $counter (i32.const 1))
            (loop $blocks
              (i64.store (local.get $ks) (i64.load (local.get $nonce)))
              (i32.store offset=8 (local.get $ks) (i32.load offset=8 (local.get $nonce)))
              (i32.store offset=12 (local.get $ks) (call $bswap32 (local.get $counter)))
              (local.set $ks (i32.add (local.get $ks) (i32.const 16)))
              (local.set $counter (i32.add (local.get $counter) (i32.const 1)))
              (br_if $blocks (i32.le_u (local.get $counter) (local.get $last))))))
        (local.set $info (i32.add (local.get $info) (i32.const 16)))
        (br $entries)))
    (local.get $ks))

  ;; Checks and opens every sealed value in place and compacts the entries to `w` on (w <= the first
  ;; entry's start; what was compacted before stays): each keeps its bytes before the value, gets
  ;; the plaintext's length (big-endian) and the plaintext, then its bytes after the value; its size
  ;; field (big-endian u32 at `sizePos`, counting what follows the `headerBytes` entry header) is
  ;; rewritten; its new end (from `data`) replaces the old one in `info`. Returns `count`, or the
  ;; index of the first value that is not authentic (the entries before it are done). With
  ;; `verified` = 1 the tags were checked together already (entry_tag_chain) and are not checked again.
  (func (export "open_entries") (param $info i32) (param $count i32) (param $data i32) (param $ks i32) (param $w i32) (param $sizePos i32) (param $headerBytes i32) (param $verified i32) (result i32)
    (local $i i32) (local $start i32) (local $lengthAt i32) (local $sealed i32) (local $end i32)
    (local $wrapped i32) (local $ct i32) (local $n i32) (local $after i32) (local $p i32)
    (block $done
      (loop $entries
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $start (i32.add (local.get $data) (i32.load (local.get $info))))
        (local.set $lengthAt (i32.add (local.get $data) (i32.load offset=4 (local.get $info))))
        (local.set $sealed (i32.load offset=8 (local.get $info)))
        (local.set $end (i32.add (local.get $data) (i32.load offset=12 (local.get $info))))
        (if (i32.lt_s (local.get $sealed) (i32.const 0))
          (then
            (memory.copy (local.get $w) (local.get $start) (i32.sub (local.get $end) (local.get $start)))
            (local.set $p (i32.add (local.get $w) (i32.sub (local.get $end) (local.get $start)))))
          (else
            (local.set $wrapped (i32.load8_u offset=4 (local.get $lengthAt)))
            (local.set $ct (i32.add (local.get $lengthAt) (i32.add (local.get $wrapped) (i32.const 17))))
            (local.set $n (i32.sub (local.get $sealed) (i32.add (local.get $wrapped) (i32.const 29))))
            (if (local.get $verified)
              (then (call $xor (local.get $ct) (i32.add (local.get $ks) (i32.const 16)) (local.get $n)))
              (else
                (if (i32.eqz (call $open (local.get $ct) (local.get $n) (local.get $ks) (i32.add (local.get $ct) (local.get $n))))
                  (then (return (local.get $i))))))
            (local.set $ks (i32.add (local.get $ks)
              (i32.shl (i32.add (i32.shr_u (i32.add (local.get $n) (i32.const 15)) (i32.const 4)) (i32.const 1)) (i32.const 4))))
            (local.set $after (i32.add (local.get $lengthAt) (i32.add (local.get $sealed) (i32.const 4))))
            (memory.copy (local.get $w) (local.get $start) (i32.sub (local.get $lengthAt) (local.get $start)))
            (local.set $p (i32.add (local.get $w) (i32.sub (local.get $lengthAt) (local.get $start))))
            (i32.store (local.get $p) (call $bswap32 (local.get $n)))
            (memory.copy (i32.add (local.get $p) (i32.const 4)) (local.get $ct) (local.get $n))
            (local.set $p (i32.add (local.get $p) (i32.add (local.get $n) (i32.const 4))))
            (memory.copy (local.get $p) (local.get $after) (i32.sub (local.get $end) (local.get $after)))
            (local.set $p (i32.add (local.get $p) (i32.sub (local.get $end) (local.get $after))))
            (i32.store (i32.add (local.get $w) (local.get $sizePos))
              (call $bswap32 (i32.sub (local.get $p) (i32.add (local.get $w) (local.get $headerBytes)))))))
        (i32.store offset=12 (local.get $info) (i32.sub (local.get $p) (local.get $data)))
        (local.set $w (local.get $p))
        (local.set $info (i32.add (local.get $info) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $entries)))
    (local.get $count))

  ;; The tags of all sealed values described at `info`, checked with one GHASH (docs/encryption.md
  ;; "Checking a batch of tags"): writes at `out`, for each sealed value in order, its ciphertext
  ;; padded with zeros to whole blocks, its length block, then the block S = tag XOR E(J0) (the
  ;; GHASH its tag says it has). GHASH over this stream is zero exactly when every value's GHASH is
  ;; its S, except with probability (blocks in the stream)/2^128 per forged stream: each S sits in a
  ;; block of its own, so the stream of altered values differs from the authentic one as a
  ;; polynomial in the secret H. Returns the end of the stream.
  (func (export "entry_tag_chain") (param $info i32) (param $count i32) (param $data i32) (param $ks i32) (param $out i32) (result i32)
    (local $end i32) (local $sealed i32) (local $lengthAt i32) (local $wrapped i32) (local $ct i32) (local $n i32) (local $padded i32) (local $bits i64)
    (local.set $end (i32.add (local.get $info) (i32.shl (local.get $count) (i32.const 4))))
    (block $done
      (loop $entries
        (br_if $done (i32.ge_u (local.get $info) (local.get $end)))
        (local.set $sealed (i32.load offset=8 (local.get $info)))
        (if (i32.ge_s (local.get $sealed) (i32.const 0))
          (then
            (local.set $lengthAt (i32.add (local.get $data) (i32.load offset=4 (local.get $info))))
            (local.set $wrapped (i32.load8_u offset=4 (local.get $lengthAt)))
            (local.set $ct (i32.add (local.get $lengthAt) (i32.add (local.get $wrapped) (i32.const 17))))
            (local.set $n (i32.sub (local.get $sealed) (i32.add (local.get $wrapped) (i32.const 29))))
            (local.set $padded (i32.and (i32.add (local.get $n) (i32.const 15)) (i32.const -16)))
            (memory.copy (local.get $out) (local.get $ct) (local.get $n))
            (memory.fill (i32.add (local.get $out) (local.get $n)) (i32.const 0) (i32.sub (local.get $padded) (local.get $n)))
            (local.set $out (i32.add (local.get $out) (local.get $padded)))
            ;; The length block: 0^64 then the bit length big-endian.
            (local.set $bits (i64.shl (i64.extend_i32_u (local.get $n)) (i64.const 3)))
            (i64.store (local.get $out) (i64.const 0))
            (i64.store offset=8 (local.get $out)
              (i64.or
                (i64.extend_i32_u (call $bswap32 (i32.wrap_i64 (i64.shr_u (local.get $bits) (i64.const 32)))))
                (i64.shl (i64.extend_i32_u (call $bswap32 (i32.wrap_i64 (local.get $bits)))) (i64.const 32))))
            ;; S = tag XOR E(J0)
            (i64.store offset=16 (local.get $out)
              (i64.xor (i64.load (i32.add (local.get $ct) (local.get $n))) (i64.load (local.get $ks))))
            (i64.store offset=24 (local.get $out)
              (i64.xor (i64.load offset=8 (i32.add (local.get $ct) (local.get $n))) (i64.load offset=8 (local.get $ks))))
            (local.set $out (i32.add (local.get $out) (i32.const 32)))
            (local.set $ks (i32.add (local.get $ks) (i32.add (local.get $padded) (i32.const 16))))))
        (local.set $info (i32.add (local.get $info) (i32.const 16)))
        (br $entries)))
    (local.get $out))

  ;; L·H for the length block L of `bytes` bytes of associated data and no ciphertext (what GCM
  ;; hashes last), written at `at`: with a GHASH of zero before it, GCM's tag is E(J0) XOR this.
  (func (export "length_block_hash") (param $bytes i32) (param $at i32)
    (local $bits i64)
    (local.set $bits (i64.shl (i64.extend_i32_u (local.get $bytes)) (i64.const 3)))
    (call $mul
      (i64.or
        (i64.extend_i32_u (call $bswap32 (i32.wrap_i64 (i64.shr_u (local.get $bits) (i64.const 32)))))
        (i64.shl (i64.extend_i32_u (call $bswap32 (i32.wrap_i64 (local.get $bits)))) (i64.const 32)))
      (i64.const 0))
    (i64.store (local.get $at) (global.get $ylo))
    (i64.store offset=8 (local.get $at) (global.get $yhi))))
