"""A labelled set for watchlist screening, written for wirewatch: a small list in the three
formats' terms, and sentences that name its entities under the spellings news uses (or are
decoys: a partial name, a namesake word, another person of the same surname). Shared by the
tests and `python -m benchmarks.watchlist`."""

from __future__ import annotations

from wirewatch.records import WatchEntity

LIST = "test-sdn"
ENTITIES = (
    WatchEntity(LIST, "1001", "KIM, Jong Un", "individual"),
    WatchEntity(LIST, "1002", "KIM, Yo Jong", "individual"),
    WatchEntity(LIST, "1003", "NEBENZIA, Vassily Alekseevich", "individual", ("NEBENZIA, Vassily",)),
    WatchEntity(
        LIST,
        "1004",
        "KOREA MINING DEVELOPMENT TRADING CORPORATION",
        "entity",
        ("KOMID",),
        ("Changgwang Sinyong",),
    ),
    WatchEntity(LIST, "1005", "OCEAN STAR", "vessel"),
    WatchEntity(LIST, "1006", "CHOE, Son Hui", "individual"),
    WatchEntity(LIST, "1007", "SHOIGU, Sergei Kuzhugetovich", "individual", ("SHOIGU, Sergey",)),
    WatchEntity(LIST, "1008", "TANGO SHIPPING COMPANY LIMITED", "entity", ("Tango Shipping",)),
    WatchEntity(
        LIST, "1009", "FOREIGN TRADE BANK OF THE DEMOCRATIC PEOPLE'S REPUBLIC OF KOREA", "entity", ("FTB",)
    ),
    WatchEntity(LIST, "1010", "PAK, Jong Chon", "individual"),
)

# (sentence, the entity ids it names)
CASES: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (text, frozenset(ids.split()) if ids else frozenset())
    for text, ids in (
        ("Kim Jong Un inspected a missile launch on Tuesday, state media said.", "1001"),
        ("North Korean leader Kim Jong-un met the visiting delegation.", "1001"),
        ("KIM Jong Un was not seen at the parade.", "1001"),
        ("Pyongyang said Kim Jongun had approved the plan.", "1001"),
        ("Photos showed Kim Jong-Un with military officials.", "1001"),
        ("His sister Kim Yo Jong issued a statement.", "1002"),
        ("Kim Yo-jong warned Seoul against leaflets.", "1002"),
        ("Both Kim Jong Un and Kim Yo Jong attended.", "1001 1002"),
        ("Russian envoy Vassily Nebenzia vetoed the resolution.", "1003"),
        ("Ambassador Vasily Nebenzya told the council the panel was biased.", "1003"),
        ("Vassily Alekseevich Nebenzia spoke for Russia.", "1003"),
        ("Nebenzia Vassily signed the letter.", "1003"),
        ("The Korea Mining Development Trading Corporation shipped the parts.", "1004"),
        ("Investigators traced payments to Korea Mining Development Trading.", "1004"),
        ("KOMID, the Korea Mining Development Trading Corporation, is the main arms exporter.", "1004"),
        ("The vessel Ocean Star was seen transferring oil off Nampo.", "1005"),
        ("Satellite images show the tanker Ocean Star beside a North Korean ship.", "1005"),
        ("Foreign Minister Choe Son Hui travelled to Moscow.", "1006"),
        ("Choe Son-hui met Sergei Lavrov.", "1006"),
        ("Sergei Shoigu visited Pyongyang in July.", "1007"),
        ("Russia's Sergey Shoygu toured the factory.", "1007"),
        ("Defence chief Sergei Kuzhugetovich Shoigu arrived.", "1007"),
        ("Tango Shipping Company Limited owned the tanker.", "1008"),
        ("The tanker belonged to Tango Shipping, records show.", "1008"),
        ("Funds moved through the Foreign Trade Bank of the Democratic People's Republic of Korea.", "1009"),
        ("The Foreign Trade Bank of the Democratic People’s Republic of Korea (FTB) handled it.", "1009"),
        ("Pak Jong Chon, a senior official, attended.", "1010"),
        ("Pak Jong-chon oversaw the test.", "1010"),
        ("金正恩 aside, Kim Jong Un's speech was long.", "1001"),
        ("KIM JONG UN ORDERS MORE LAUNCHES", "1001"),
        ("Kim Jong Un’s sister, Kim Yo Jong, spoke later.", "1001 1002"),
        # Decoys: a partial name, a surname alone, namesakes, common words, another person.
        ("Kim said the talks would resume.", ""),
        ("Kim Jong Il, the late leader, was mentioned.", ""),
        ("Kim Yong Chol led the delegation.", ""),
        ("Jong Un Park, a student in Seoul, won the prize.", ""),
        ("The Ocean Star hotel in Busan reopened.", ""),
        ("An ocean star is another name for a sea star.", ""),
        ("KOMID was mentioned in an unrelated acronym list.", ""),
        ("Changgwang Sinyong is a weak alias on its own.", ""),
        ("FTB rules changed for football clubs.", ""),
        ("The foreign trade bank of Iran raised rates.", ""),
        ("Sergei Lavrov met the minister.", ""),
        ("Shoigu said nothing further.", ""),
        ("Choe Ryong Hae was promoted.", ""),
        ("Tango lessons are popular in Buenos Aires.", ""),
        ("Shipping company limited its routes.", ""),
        ("Pak said the plan was ready.", ""),
        ("The Korea Mining Company opened a new pit.", ""),
        ("Vassily Kandinsky painted in Munich.", ""),
        ("A deputy of the envoy, Dmitry Polyanskiy, spoke.", ""),
        ("Kim Jong-nam was killed in Kuala Lumpur in 2017.", ""),
    )
)


# Written after the rules were settled and not used to change them: a check on names and
# sentences the rules were not built around.
HELD_OUT_ENTITIES = (
    WatchEntity(LIST, "2001", "RI, Pyong Chol", "individual"),
    WatchEntity(LIST, "2002", "PRIGOZHIN, Yevgeniy Viktorovich", "individual", ("PRIGOZHIN, Evgeny",)),
    WatchEntity(LIST, "2003", "CHONGCHONGANG SHIPPING COMPANY", "entity", ("Chongchongang Shipping Co.",)),
    WatchEntity(LIST, "2004", "YUK TUNG ENERGY PTE LTD", "entity"),
    WatchEntity(LIST, "2005", "WISE HONEST", "vessel"),
    WatchEntity(LIST, "2006", "ZOLOTOV, Viktor Vasilyevich", "individual"),
    WatchEntity(LIST, "2007", "KOREA KWANGSON BANKING CORP", "entity", ("KKBC",)),
)
HELD_OUT_CASES: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (text, frozenset(ids.split()) if ids else frozenset())
    for text, ids in (
        ("Ri Pyong-chol oversaw the launch from a nearby hill.", "2001"),
        ("Marshal Ri Pyong Chol was promoted on Sunday.", "2001"),
        ("Yevgeny Prigozhin's fighters withdrew from the town.", "2002"),
        ("Prigozhin Yevgeniy Viktorovich was named in the filing.", "2002"),
        ("Evgeny Prigozhin said his men would stay.", "2002"),
        ("The Chongchongang Shipping Company operated the freighter.", "2003"),
        ("Records list Chongchongang Shipping as the manager.", "2003"),
        ("Yuk Tung Energy Pte. Ltd. chartered the tanker.", "2004"),
        ("A Singapore firm, Yuk Tung Energy, denied wrongdoing.", "2004"),
        ("US marshals seized the bulk carrier Wise Honest.", "2005"),
        ("The ship Wise Honest was carrying coal.", "2005"),
        ("Viktor Zolotov, head of the National Guard, spoke.", "2006"),
        ("Korea Kwangson Banking Corp handled the transfers.", "2007"),
        ("KKBC, the Korea Kwangson Banking Corporation, was listed in 2009.", "2007"),
        # Decoys
        ("Ri said the test had succeeded.", ""),
        ("Ri Il Hwan gave a speech.", ""),
        ("A wise, honest answer was expected from the minister.", ""),
        ("Yuk Tung Road in Hong Kong was closed.", ""),
        ("KKBC stands for a cricket club in the notice.", ""),
        ("Viktor Orban met the delegation.", ""),
        ("Prigozhin Street was renamed.", ""),
        ("The shipping company Chongjin Line opened a route.", ""),
    )
)


# A second check, written after the changes the first one led to (patronymics, vessel names)
# and run once: names, spellings and decoys of kinds not seen above.
FRESH_ENTITIES = (
    WatchEntity(LIST, "3001", "SHAMANOV, Vladimir Anatolyevich", "individual"),
    WatchEntity(LIST, "3002", "KO, Chol Man", "individual"),
    WatchEntity(LIST, "3003", "GLOCOM", "entity", (), ("Global Communications Co",)),
    WatchEntity(LIST, "3004", "NEW REGENT", "vessel"),
    WatchEntity(LIST, "3005", "DALIAN ZHENGHUA TRADE CO., LTD.", "entity"),
)
FRESH_CASES: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (text, frozenset(ids.split()) if ids else frozenset())
    for text, ids in (
        ("Vladimir Shamanov chaired the defence committee.", "3001"),
        ("General Shamanov Vladimir Anatolyevich retired.", "3001"),
        ("Ko Chol-man was named as the bank's representative.", "3002"),
        ("Dalian Zhenghua Trade Co. Ltd. shipped the coal.", "3005"),
        ("A firm called Dalian Zhenghua Trade was fined.", "3005"),
        ("The tanker New Regent was seen off Nampo.", "3004"),
        ("Glocom, also known as Global Communications Co, sold radios.", "3003"),
        ("The new regent of the province was sworn in.", ""),
        ("Ko said the deal was done.", ""),
        ("Glocom was a brand name in an unrelated report.", ""),
        # Labelled a decoy at first, wrongly: "Chol Man Ko" is Ko Chol Man in Western order.
        ("Vladimir Putin met Chol Man Ko's family.", "3002"),
        ("Dalian port handled record trade this year.", ""),
    )
)
