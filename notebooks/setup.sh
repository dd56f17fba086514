#!/usr/bin/env bash
# Sets up the notebooks' Java kernel: Debian's Jupyter (installed when missing and we are root), the rapaio Java
# kernel and XChart from Maven Central, and a kernel spec "captioner-java" under notebooks/target/kernels whose
# classpath holds Captioner's classes and dependencies. Nothing is installed outside this checkout but the
# Debian packages. Then: notebooks/run.sh executes the notebooks, or
#   JUPYTER_PATH=notebooks/target jupyter notebook notebooks/
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
if ! /usr/bin/python3 -c 'import nbconvert, nbclient, jupyter_client' 2>/dev/null; then
  if [[ $(id -u) == 0 ]]; then
    echo "notebooks: installing Jupyter from Debian (jupyter-nbconvert, python3-nbclient, jupyter-client)" >&2
    (apt-get install -y -q jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel >/dev/null; })
  else
    echo "notebooks: Jupyter is missing; install Debian's jupyter-nbconvert python3-nbclient jupyter-client" >&2
    exit 3
  fi
fi
# Captioner's classes and runtime classpath (as the ./captioner launcher builds them)
(cd "$root" && mvn -q -B -DskipTests compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >&2)
# the kernel and the plotting library
(cd "$here" && mvn -q -B dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >&2)
kernel_jar="$(tr ':' '\n' < "$here/target/classpath.txt" | grep rapaio-jupyter-kernel)"
extra="$(tr ':' '\n' < "$here/target/classpath.txt" | grep -v rapaio-jupyter-kernel | paste -sd:)"
cp="$root/target/classes:$(cat "$root/target/classpath.txt"):$extra"
spec="$here/target/kernels/captioner-java"
mkdir -p "$spec"
java_bin="$(command -v java)"
python3 - "$spec/kernel.json" "$java_bin" "$kernel_jar" "$cp" "$root" <<'PY'
import json, sys
out, java, jar, cp, root = sys.argv[1:]
json.dump({
    "argv": [java, "-Xmx6g", "-cp", jar, "org.rapaio.jupyter.kernel.MainApp", "{connection_file}"],
    "display_name": "Java (Captioner)",
    "language": "java",
    "interrupt_mode": "message",
    "env": {
        "RJK_CLASSPATH": cp.replace(":", ";"),  # the kernel splits its classpath on ';' on every platform
        "RJK_COMPILER_OPTIONS": "-Xlint:none",
        "RJK_TIMEOUT_MILLIS": "-1",
        "CAPTIONER_ROOT": root,
    },
}, open(out, "w"), indent=2)
PY
echo "notebooks: kernel spec written to $spec" >&2
