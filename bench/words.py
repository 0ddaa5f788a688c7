"""Word lists of the generated text, in the five languages of the data (no dependencies: the
django-helpdesk side imports them too)."""

_WORDS_TEXT = {
    "en": (
        "printer invoice refund password login error server crash slow upgrade license "
        "account billing order delivery shipment tracking broken screen laptop vpn email "
        "sync backup restore outage timeout payment card declined subscription cancel "
        "report export import dashboard mobile app update install network wifi access "
        "permission denied urgent please help thanks again still not working since yesterday"
    ),
    "it": (
        "stampante fattura rimborso password accesso errore server lento aggiornamento "
        "licenza conto pagamento ordine consegna spedizione tracciamento rotto schermo "
        "portatile posta sincronizzazione backup ripristino interruzione carta rifiutata "
        "abbonamento annullare rapporto esportazione cruscotto applicazione rete permesso "
        "negato urgente aiuto grazie ancora non funziona da ieri buongiorno cordiali saluti"
    ),
    "ru": (
        "принтер счёт возврат пароль вход ошибка сервер сбой медленно обновление лицензия "
        "аккаунт оплата заказ доставка отправка отслеживание сломан экран ноутбук почта "
        "синхронизация резервная копия восстановление отключение карта отклонена подписка "
        "отмена отчёт экспорт панель приложение сеть доступ запрещён срочно помогите "
        "спасибо всё ещё не работает со вчерашнего дня здравствуйте"
    ),
    "hu": (
        "nyomtató számla visszatérítés jelszó bejelentkezés hiba szerver összeomlás lassú "
        "frissítés licenc fiók fizetés rendelés szállítás követés törött képernyő laptop "
        "levelezés szinkronizálás mentés visszaállítás leállás kártya elutasítva előfizetés "
        "lemondás jelentés exportálás alkalmazás hálózat hozzáférés megtagadva sürgős "
        "segítség köszönöm még mindig nem működik tegnap óta üdvözlettel"
    ),
    "ro": (
        "imprimantă factură rambursare parolă autentificare eroare server blocare lent "
        "actualizare licență cont plată comandă livrare expediere urmărire defect ecran "
        "laptop poștă sincronizare copie restaurare întrerupere card respins abonament "
        "anulare raport export aplicație rețea acces refuzat urgent ajutor mulțumesc încă "
        "nu funcționează de ieri bună ziua cu stimă"
    ),
}
WORDS = {lang: text.split() for lang, text in _WORDS_TEXT.items()}
LANGUAGES = list(WORDS)
