# Sourced by make-fixtures.sh and make-sync-fixtures.sh: the one set of libx264 settings for
# the H.264 fixtures. camera.h264 and sync.h264 must be encoded alike so that their SPS and
# PPS are byte-identical (mediaFixtures.ts checks this when it loads them).
#
# 160x90 is set by the caller's input; Constrained Baseline, 25 fps, an IDR every 10 frames,
# an access unit delimiter before every access unit, SPS/PPS repeated before every IDR.
# shellcheck disable=SC2034  # used by the scripts that source this file
x264=(-c:v libx264 -profile:v baseline -pix_fmt yuv420p -preset veryslow -crf 34 -threads 1
  -g 10 -keyint_min 10 -sc_threshold 0 -bf 0 -x264-params "aud=1:repeat-headers=1" -f h264)
