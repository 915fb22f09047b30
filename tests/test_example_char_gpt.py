"""examples/char_gpt.py --quick: the small GPT trains, ends below the unigram baseline it
prints, and samples text that continues the prompt."""
import re

from test_examples import _run_example_with


def test_char_gpt_quick_beats_the_unigram_baseline_and_samples():
    output = _run_example_with("char_gpt.py", "--quick", "--length", "40")
    losses = [float(v) for v in re.findall(r"val loss (\d+\.\d+)", output)]
    assert len(losses) == 10 and losses[-1] < losses[0], output
    match = re.search(r"^Validation loss per character: (\d+\.\d+) nats \(unigram baseline "
                      r"(\d+\.\d+)\)$", output, flags=re.MULTILINE)
    assert match, output
    final, baseline = float(match.group(1)), float(match.group(2))
    assert 2.9 < baseline < 3.2, output  # 62 characters, far from uniform: log(62) = 4.13
    assert final < baseline - 0.3, output
    sample = re.search(r"^--- temperature 0.8, top-k 10 ---\n(.*)$", output, flags=re.MULTILINE)
    assert sample and sample.group(1).startswith("The Fox "), output
    assert len(sample.group(1)) == len("The Fox ") + 40, output
