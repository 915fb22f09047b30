"""scikit-learn is optional: ember imports without it, and keras.wrappers names the extra to
install when a wrapper is used without it."""
import subprocess
import sys
import textwrap
from pathlib import Path


def test_ember_imports_without_scikit_learn_and_the_wrappers_name_the_extra():
    code = textwrap.dedent("""
        import sys
        import ember, ember.keras
        assert not [m for m in sys.modules if m.split(".")[0] == "sklearn"]
        sys.modules["sklearn"] = None  # as if scikit-learn were not installed
        try:
            from ember.keras.wrappers import SKLearnRegressor
        except ImportError as error:
            print(error)
    """)
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ('keras.wrappers.SKLearnRegressor needs scikit-learn: pip '
                                     'install "ember[sklearn]"')
