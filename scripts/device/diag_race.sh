#!/usr/bin/env bash
# Diagnosis of a racecheck report, on the GPU machine (device tool, with
# .device-run carried as for run_issue13.sh): the SASS of rle_select_roi from
# Triton's ptxas/cuobjdump (sass.txt.gz; offsets can differ from the driver's
# JIT, the instruction pattern around a reported PC does not), racecheck's
# per-hazard report on the adversarial suite (race.txt.gz: shared address,
# writing and reading thread, block) and the per-kernel bench of the
# configurations the summary table lacks. Used for the fourth round of
# issue 13 (docs/BENCHMARKS.md).
set -u
P=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin','ptxas'))")
D=$(dirname $P); ls $D > $OUT/bin.txt
$P -arch=sm_90 crates/rle-host/ptx/rle_kernels.ptx -o /tmp/k.cubin && ($D/cuobjdump -sass -fun rle_select_roi /tmp/k.cubin > /tmp/sass.txt 2>&1 || $D/nvdisasm -fun rle_select_roi /tmp/k.cubin > /tmp/sass.txt 2>&1)
gzip -c /tmp/sass.txt > $OUT/sass.txt.gz
$P --version | tail -2 >> $OUT/bin.txt; nvidia-smi | head -4 >> $OUT/bin.txt
RLE_ADVERSARIAL_CONFIGS=2 timeout 175 compute-sanitizer --tool racecheck --racecheck-report hazard --print-limit 30 .device-run/bin/rle-test-gpu_adversarial --include-ignored --test-threads 1 adversarial_shapes > /tmp/race.txt 2>&1
echo "race rc=$?"; head -c 300000 /tmp/race.txt | gzip -c > $OUT/race.txt.gz; grep -c Error /tmp/race.txt
RLE_BENCH_MEASURE_S=0.3 RLE_BENCH_WARMUP_S=0.3 timeout 100 .device-run/rle-bench-kernels --bench 'gpu_(select_roi|mask_count|mask_reserve|mask_write)/(312x176|3840x2160|1920x1080_q100m78_d100|1920x1080_q100m78_d1_|1920x1080_q300)' > $OUT/k.txt 2>&1
echo "k rc=$?"; grep -E "time:" -B1 $OUT/k.txt | grep -vE "^--" | paste - - | awk '{print $1, $5}'
