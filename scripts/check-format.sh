#!/usr/bin/env bash
# Lints the Swift sources against .swift-format (4-space indent, 140 columns, the project's own choices on
# semicolons in one-line bodies, grouped enum cases and import order) with the formatter that ships with the
# toolchain. Fix a file with: swift format format --in-place FILE
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --parallel --recursive Sources Tests Package.swift
echo "check-format: OK"
