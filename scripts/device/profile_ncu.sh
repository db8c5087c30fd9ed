#!/usr/bin/env bash
# Nsight Compute, full set, on four launches of the demo frame's kernels (rle bench --demo),
# with per-SASS-line source counters of rle_mask_count and rle_select_roi: where the
# item and select kernels stall. Layout as run_issue13.sh (.device-run/rle); writes
# $OUT/ncu.tgz (details, source CSVs, raw metrics); the readable details stay in
# /tmp/ncu/details.txt. NCU_LIMIT_S [200] bounds the profiled run.
set -u
L=/tmp/ncu; mkdir -p $L
ncu --version | tail -1
timeout ${NCU_LIMIT_S:-200} ncu -f -o $L/rep --kernel-name regex:'rle_(select_roi|mask_count|mask_reserve|mask_write)' --launch-skip 40 --launch-count 4 \
  --set full --import-source no .device-run/rle bench --demo --iters 12 --cpu-iters 1 --warmup 2 > $L/run.txt 2>&1; echo "ncu rc=$?"
ncu -i $L/rep.ncu-rep --page details > $L/details.txt 2>&1
ncu -i $L/rep.ncu-rep --page source --csv --print-source sass --kernel-name rle_mask_count > $L/src_count.csv 2>&1; echo "src rc=$?"
ncu -i $L/rep.ncu-rep --page source --csv --print-source sass --kernel-name rle_select_roi > $L/src_select.csv 2>&1
ncu -i $L/rep.ncu-rep --page raw --csv > $L/raw.csv 2>&1
grep -E '^  rle_|Duration|Registers Per|Achieved Occupancy|Warp Cycles Per Issued|No Eligible|Stall' $L/details.txt | head -60
wc -c $L/*; tail -3 $L/run.txt
cd /tmp && tar czf $OUT/ncu.tgz ncu/details.txt ncu/src_count.csv ncu/src_select.csv ncu/raw.csv ncu/run.txt
