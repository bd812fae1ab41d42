#!/usr/bin/env bash
# cloud-tools.sh DIR: installs what the cloud jobs call at run time into DIR (a cached folder), each pinned and
# checked before use, and links them into DIR/bin:
#   - the Pulumi CLI of the pinned SDK (pulumi, and pulumi-language-go, which runs the program), from get.pulumi.com,
#     checked against the checksums Pulumi publishes with the release;
#   - the AWS CLI v2, from awscli.amazonaws.com, checked against AWS_CLI_SHA256: the EKS kubeconfig the stack builds
#     runs `aws eks get-token`.
# A version already installed in DIR is not downloaded again. Go itself comes with the job's image.
set -euo pipefail

PULUMI_VERSION=${PULUMI_VERSION:-3.259.0} # the SDK's version in go.mod
AWS_CLI_VERSION=2.36.11
AWS_CLI_SHA256=50fbb7a2f44a78eab4a210088040e8f0bc4b9937cac8043c2354269d58614df6

[ "$(uname -m)" = x86_64 ] || { echo "cloud-tools.sh: x86_64 runners only, not $(uname -m)" >&2; exit 1; }
mkdir -p "${1:?usage: cloud-tools.sh DIR}/bin"
dir=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pulumi_dir=$dir/pulumi-v$PULUMI_VERSION
if [ ! -x "$pulumi_dir/pulumi" ] || [ ! -x "$pulumi_dir/pulumi-language-go" ]; then
  archive=pulumi-v$PULUMI_VERSION-linux-x64.tar.gz
  curl -fsSL --retry 3 -o "$tmp/$archive" "https://get.pulumi.com/releases/sdk/$archive"
  curl -fsSL --retry 3 -o "$tmp/checksums.txt" "https://get.pulumi.com/releases/sdk/pulumi-$PULUMI_VERSION-checksums.txt"
  (cd "$tmp" && grep "  $archive\$" checksums.txt | sha256sum --check --strict -)
  tar -xzf "$tmp/$archive" -C "$tmp" # one folder, pulumi/, with the CLI and its language hosts
  rm -rf "$pulumi_dir"
  mv "$tmp/pulumi" "$pulumi_dir"
fi

# The AWS installer links its files by absolute path; a cache restored into another build folder is installed again.
aws_dir=$dir/aws-cli-$AWS_CLI_VERSION
if ! "$aws_dir/bin/aws" --version >/dev/null 2>&1; then
  if ! command -v unzip >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends unzip >/dev/null
  fi
  curl -fsSL --retry 3 -o "$tmp/awscli.zip" "https://awscli.amazonaws.com/awscli-exe-linux-x86_64-$AWS_CLI_VERSION.zip"
  echo "$AWS_CLI_SHA256  $tmp/awscli.zip" | sha256sum --check --strict -
  unzip -q "$tmp/awscli.zip" -d "$tmp"
  rm -rf "$aws_dir"
  "$tmp/aws/install" --install-dir "$aws_dir/dist" --bin-dir "$aws_dir/bin" >/dev/null
fi

ln -sfn "$pulumi_dir/pulumi" "$pulumi_dir/pulumi-language-go" "$aws_dir/bin/aws" "$dir/bin/"
echo "pulumi $("$dir/bin/pulumi" version), $("$dir/bin/aws" --version)"
