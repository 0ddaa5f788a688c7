import pytest

from helpdesk_api.mail.language import detect_language

PARAGRAPHS = {
    "en": (
        "Hello, since this morning none of our staff can log in to the portal. The page "
        "reloads after the password is entered and shows no error. Could you please check "
        "whether something changed on your side?"
    ),
    "it": (
        "Buongiorno, da questa mattina nessuno dei nostri dipendenti riesce ad accedere al "
        "portale. Dopo aver inserito la password la pagina si ricarica senza mostrare alcun "
        "errore. Potete verificare se è cambiato qualcosa?"
    ),
    "ru": (
        "Здравствуйте! С сегодняшнего утра никто из наших сотрудников не может войти в "
        "портал. После ввода пароля страница перезагружается и не показывает никакой "
        "ошибки. Проверьте, пожалуйста, не изменилось ли что-нибудь на вашей стороне."
    ),
    "hu": (
        "Jó napot! Ma reggel óta egyik munkatársunk sem tud belépni a portálra. A jelszó "
        "megadása után az oldal újratöltődik, és semmilyen hibaüzenetet nem mutat. Kérem, "
        "nézzék meg, változott-e valami az Önök oldalán."
    ),
    "ro": (
        "Bună ziua, din această dimineață niciunul dintre colegii noștri nu se mai poate "
        "conecta la portal. După introducerea parolei pagina se reîncarcă și nu afișează "
        "nicio eroare. Vă rugăm să verificați dacă s-a schimbat ceva la dumneavoastră."
    ),
}


@pytest.mark.parametrize("code", sorted(PARAGRAPHS))
def test_paragraph_language_is_detected(code):
    assert detect_language(PARAGRAPHS[code]) == code


@pytest.mark.parametrize("text", ["", "Grazie!", "Спасибо, ок", "ok 👍", "12345 67890 !!!"])
def test_too_short_text_is_undetermined(text):
    assert detect_language(text) is None


def test_ambiguous_text_is_undetermined():
    # Enough letters, but acronyms belong to no language: no candidate gets half the weight.
    assert detect_language("PDF CSV XML JSON HTTP SMTP IMAP") is None


def test_short_mix_of_languages_is_undetermined():
    assert detect_language("ok, grazie, спасибо") is None


def test_a_stricter_threshold_turns_a_guess_into_undetermined():
    text = "mama papa mama papa mama papa"
    assert detect_language(text) is not None
    assert detect_language(text, min_confidence=0.9) is None


def test_only_candidates_are_answered():
    assert detect_language(PARAGRAPHS["it"], candidates=("it", "ro")) == "it"
    assert detect_language(PARAGRAPHS["ro"], candidates=("en", "ru")) in ("en", None)


def test_unknown_candidate_code_is_a_configuration_error():
    with pytest.raises(ValueError, match="xx"):
        detect_language(PARAGRAPHS["en"], candidates=("en", "xx"))
