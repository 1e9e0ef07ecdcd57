"""Runs the Gemma 2 / Gemma 3 fixture folders through Hugging Face `transformers` itself and compares its logits with
the float64 reference's (expected-seq*.safetensors). For a machine where `transformers` and `torch` are installed
(this one has neither `transformers` nor a GPU): the product never runs it.

Run: python3 tools/reference/gemma2/hf_compare.py [FIXTURES_ROOT]   (default packages/runtime/test/fixtures)
Prints one line per fixture and seq: max relative error (‖hf − ref‖ / ‖ref‖) of the logits, in float64 and float32.
Eager attention (HF's sliding-window mask and soft-cap live there).
"""
import glob
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qwen2"))
import safetensors_io as st  # noqa: E402


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "..", "packages",
                                                              "runtime", "test", "fixtures")
    import transformers
    print("transformers", transformers.__version__, "torch", torch.__version__)
    for family in ("gemma2", "gemma3"):
        for folder in sorted(glob.glob(os.path.join(root, family, "*", "config.json"))):
            folder = os.path.dirname(folder)
            cfg = json.load(open(os.path.join(folder, "config.json")))
            cls = transformers.Gemma2ForCausalLM if family == "gemma2" else transformers.Gemma3ForCausalLM
            for dtype in (torch.float64, torch.float32):
                model = cls.from_pretrained(folder, torch_dtype=dtype, attn_implementation="eager").eval()
                for path in sorted(glob.glob(os.path.join(folder, "expected-seq*.safetensors"))):
                    exp = st.read(path)
                    ids = torch.tensor(exp["input_ids"].array.astype(np.int64))
                    with torch.no_grad():
                        logits = model(ids, use_cache=False).logits.double().numpy()
                    ref = exp["logits"].f64()
                    err = np.linalg.norm(logits - ref) / np.linalg.norm(ref)
                    print(f"{family}/{os.path.basename(folder)} {os.path.basename(path)} {dtype}: rel {err:.2e}"
                          f" (model_type {cfg['model_type']})")


if __name__ == "__main__":
    main()
