from django.core.management import call_command
from django.utils import translation


def test_committed_catalogues_are_compiled():
    # Fails when a .po was edited without `make messages` (or compilemessages_py).
    call_command("compilemessages_py", "--check")


def test_chinese_catalogue_is_loaded():
    with translation.override("zh-hans"):
        assert translation.gettext("API keys") == "API 密钥"
        assert translation.gettext("Review queue") == "审核队列"
