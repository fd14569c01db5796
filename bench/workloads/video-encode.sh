#!/usr/bin/env bash
# Benign look-alike for the Assay corpus: a video transcode with Debian's ffmpeg and libx264.
#
# What it does: encodes a synthetic 1280x720 30 fps test pattern with motion and noise
# (lavfi testsrc2 + noise filter, so the encoder has real work) to H.264 (libx264, preset
# medium, CRF 23, 2 threads) into an MP4 in a temp dir, as fast as the CPU allows, for at most
# --seconds (ffmpeg -t on the input plus a timeout), then deletes the output.
# How it mirrors the real thing: batch transcoding (VOD pipelines, ffmpeg/HandBrake farms) is a
# long, near-flat all-core CPU load with a steady stream of writes: the classic look-alike of a
# CPU miner that must not be called pow-mining.
# Sources: https://trac.ffmpeg.org/wiki/Encode/H.264 ; https://ffmpeg.org/ffmpeg-filters.html#testsrc
# Debian packages: ffmpeg, libx264 (GPL).
#
# Usage: video-encode.sh [--seconds N]
set -euo pipefail
SECS=300
[[ "${1:-}" == --seconds ]] && SECS="$2"
WORK="$(mktemp -d /tmp/assay-video.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 0' TERM INT
timeout --foreground -s INT "$SECS" ffmpeg -hide_banner -loglevel error -nostdin -y \
  -f lavfi -i "testsrc2=size=1280x720:rate=30,noise=alls=12:allf=t" -t 3600 \
  -c:v libx264 -preset medium -crf 23 -threads 2 -pix_fmt yuv420p -f mp4 "$WORK/out.mp4" || true
