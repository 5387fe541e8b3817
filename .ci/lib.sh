# Shared by the lane scripts: installing Debian packages and loud failure.

# die prints a go-test-style FAIL line that names the lane, and exits
# non-zero.
die() {
  echo "FAIL	$LANE: $*"
  exit 1
}

# need_packages installs the Debian packages that are not installed yet
# (apt-get update first, noninteractive), or dies.
need_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "apt-get not found; cannot install ${missing[*]}"
  echo "   apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
}

# run_test_binary LABEL LOG CMD...: runs a test binary (without -test.v,
# so that it prints only failures and its verdict), prints what it wrote,
# and a go-test-style summary line with the time taken. It returns the
# binary's exit status, or 1 if it exited 0 without its verdict.
#
# The verdict is read from the binary's standard output alone, kept in LOG,
# while its standard error goes to LOG.stderr: Wine writes its own messages
# ("wine client error:24c: ") to standard error, unbuffered and without a
# newline before the binary's next write, so in one merged stream they can
# land on the PASS line and hide it. A binary that exits 0 without a PASS
# line of its own (TestMain returning early, a crash Wine reports as 0)
# still fails.
#
# A run that fails with nothing on standard output and nothing but Wine's
# own client errors (or nothing at all) on standard error never started:
# Wine failed to launch it, so not one line of Go ran. Seen as exit 1 at
# once with no output, right after Wine's client errors in the run before,
# and as exit 1 at once with only "wine client error:0: recvmsg: Connection
# reset by peer" (the new process met a Wine server that was going away).
# It is tried again, up to three times in all, and each retry is said with
# what Wine printed; a binary that fails that way every time still fails,
# and so does one that printed anything of its own. .ci/test-lib checks all
# of this.
run_test_binary() {
  local label=$1 log=$2; shift 2
  local start=$SECONDS rc attempt
  for attempt in 1 2 3; do
    rc=0
    "$@" >"$log" 2>"$log.stderr" || rc=$?
    if [ $rc -eq 0 ] || [ -s "$log" ] || ! only_wine_errors "$log.stderr"; then
      break
    fi
    if [ -s "$log.stderr" ]; then
      echo "   $label: exit $rc with only Wine's errors (attempt $attempt): it did not start:"
      sed 's/^/      /' "$log.stderr"
      [ -z "$(tail -c 1 "$log.stderr")" ] || echo
    else
      echo "   $label: exit $rc with no output at all (attempt $attempt): it did not start"
    fi
  done
  grep -v -x 'PASS' "$log" || true
  if [ -s "$log.stderr" ]; then
    echo "   (standard error of $label:)"
    cat "$log.stderr"
    # Wine's messages may lack their newline; end the line here.
    [ -z "$(tail -c 1 "$log.stderr")" ] || echo
  fi
  if [ $rc -eq 0 ] && grep -q -x 'PASS' "$log"; then
    printf 'ok  \t%s\t%ds\n' "$label" $((SECONDS - start))
  else
    [ $rc -eq 0 ] && rc=1 # exited 0 without PASS: it did not run the tests
    printf 'FAIL\t%s\t%ds (exit %d)\n' "$label" $((SECONDS - start)) $rc
  fi
  return $rc
}

# only_wine_errors FILE: whether FILE is empty or holds nothing but Wine's
# client errors: "wine client error:HEX: " alone (Wine writes it without a
# newline at times) or followed by one of the system calls a Wine client
# makes and its error to the end of the line ("recvmsg: Connection reset by
# peer"). Any other text, such as a Go panic, even on the same line, is the
# binary's own.
only_wine_errors() {
  [ ! -s "$1" ] && return 0
  ! sed -E 's/wine client error:[0-9a-f]+: ((recvmsg|sendmsg|read|write|readv|writev|socket|connect|pipe|poll|select|fcntl|mmap): [A-Z][A-Za-z ]*$)?//g' "$1" | grep -q '[^[:space:]]'
}
