"""The README's configuration example is valid configuration, so it stays true."""
import re
from pathlib import Path

from leaklint.config import load_config

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_config_example_loads(tmp_path):
    block = re.search(r"```toml\n(\[tool\.leaklint\].*?)```", README.read_text(), re.S).group(1)
    path = tmp_path / "pyproject.toml"
    path.write_text(block)
    config = load_config(str(path))  # raises ConfigError on any unknown key or code
    assert config.rule_options == {"timeout-functions": ["mycompany.http.fetch"],
                                   "exception-paths": ["timer", "pool"]}
    assert [codes for _, _, codes in config.per_file_ignores] == [["LKL101", "LKL4"]]


def test_every_readme_config_example_loads(tmp_path):
    blocks = re.findall(r"```toml\n(\[tool\.leaklint\].*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    path = tmp_path / "pyproject.toml"
    for block in blocks:
        path.write_text(block)
        load_config(str(path))  # raises ConfigError on any unknown key or code
